"""The tortoise models: customers and their channels, the catalog, orders, campaigns and their outbox.

Money is stored as floating point (REAL / DOUBLE PRECISION), rounded to 4 decimals on the way in: SQLite
keeps tortoise decimals as text, which would make SQL comparisons in segment rules textual.
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class Customer(Model):
    """A shop customer, keyed by its id in the shop, with marketing consent."""

    id = fields.BigIntField(primary_key=True)
    external_id = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=200, default="")
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    language = fields.CharField(max_length=16, default="en")
    timezone = fields.CharField(max_length=64, null=True)
    country = fields.CharField(max_length=64, null=True)
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    attributes: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    opted_in_at = fields.DatetimeField(null=True)
    opted_out_at = fields.DatetimeField(null=True)
    consent_source = fields.CharField(max_length=64, null=True)
    notices_off_at = fields.DatetimeField(
        null=True, description="When the customer turned order notices off, which marketing consent does not touch."
    )
    persona = fields.CharField(max_length=64, null=True, description="Assigned by segments refresh.")
    persona_at = fields.DatetimeField(null=True, description="When the persona was last computed.")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "customer"
        indexes = (("persona",),)


class ChannelIdentity(Model):
    """Where a customer can be reached: one chat address on one channel."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="identities", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=16)
    address = fields.CharField(max_length=128)
    reachable = fields.BooleanField(default=True)
    last_error = fields.TextField(null=True)
    linked_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "channel_identity"
        unique_together = (("channel", "address"),)
        indexes = (("customer_id",),)


class Product(Model):
    """A catalog item, keyed by SKU."""

    id = fields.BigIntField(primary_key=True)
    sku = fields.CharField(max_length=64, unique=True)
    name = fields.CharField(max_length=300)
    category = fields.CharField(max_length=100, default="", db_index=True)
    price = fields.FloatField()
    currency = fields.CharField(max_length=3, default="USD")
    url = fields.CharField(max_length=500, null=True)
    stock = fields.IntField(null=True, description="Units in stock, null when not tracked.")
    tags: fields.Field[list[str]] = fields.JSONField(default=list)
    description = fields.TextField(default="")
    attributes: fields.Field[dict[str, object]] = fields.JSONField(
        default=dict, description="Specifications (material, weight_g...): facts a description may state."
    )
    active = fields.BooleanField(default=True)

    class Meta:
        table = "product"


class Order(Model):
    """An order or a return (``is_return``: a cancellation whose lines have negative quantities)."""

    id = fields.BigIntField(primary_key=True)
    external_id = fields.CharField(max_length=64, unique=True)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer",
        related_name="orders",
        on_delete=fields.CASCADE,
        null=True,
        description="Null once the customer is erased: the order stays, anonymous, for the shop's counts.",
    )
    ordered_at = fields.DatetimeField()
    status = fields.CharField(max_length=16, default="paid")
    is_return = fields.BooleanField(default=False)
    currency = fields.CharField(max_length=3, default="USD")
    total = fields.FloatField(default=0)
    discount_code = fields.CharField(max_length=64, null=True)
    tracking_url = fields.CharField(max_length=500, null=True)
    carrier = fields.CharField(max_length=64, null=True)
    expected_at = fields.DatetimeField(null=True, description="When the shop expects it delivered.")
    feedback_asked_at = fields.DatetimeField(null=True, description="When the customer was asked about this order.")
    seen_at = fields.DatetimeField(
        null=True, description="When Chatcast first stored the order: an import's start or a webhook call."
    )
    status_changed_at = fields.DatetimeField(
        null=True, description="When the order reached its status (null: history an import brought without a time)."
    )
    return_of = fields.CharField(
        max_length=64, null=True, description="A return's original order (its external id), where the shop names it."
    )
    refunded = fields.FloatField(
        default=0, db_default=0, description="Refunded on the order without a return of its own: a partial refund."
    )

    class Meta:
        table = "order"
        indexes = (("customer_id", "ordered_at"), ("return_of",))


class OrderItem(Model):
    """One line of an order: ``line`` is its stable position, which makes re-imports idempotent."""

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="items", on_delete=fields.CASCADE
    )
    line = fields.IntField()
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="order_items", on_delete=fields.RESTRICT
    )
    quantity = fields.IntField()
    unit_price = fields.FloatField()

    class Meta:
        table = "order_item"
        unique_together = (("order", "line"),)
        indexes = (("product_id",),)


class CustomerFeatures(Model):
    """What the history of a customer says about them, derived by SQL and never edited by hand."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="features", on_delete=fields.CASCADE
    )
    orders_count = fields.IntField(default=0)
    returns_count = fields.IntField(default=0)
    total_spend = fields.FloatField(default=0)
    avg_order_value = fields.FloatField(default=0)
    first_order_at = fields.DatetimeField(null=True)
    last_order_at = fields.DatetimeField(null=True)
    discount_orders = fields.IntField(default=0)
    categories: fields.Field[list[str]] = fields.JSONField(default=list)
    clicks = fields.IntField(default=0)
    replies = fields.IntField(default=0)
    last_engaged_at = fields.DatetimeField(null=True)
    rfm_recency = fields.SmallIntField(null=True)
    rfm_frequency = fields.SmallIntField(null=True)
    rfm_monetary = fields.SmallIntField(null=True)
    sentiment_30d = fields.FloatField(
        null=True, description="Mean sentiment of the words of the last 30 days, null without any."
    )
    open_complaint = fields.BooleanField(default=False)
    negative_skus: fields.Field[list[str]] = fields.JSONField(default=list, description="SKUs of negative feedback.")
    computed_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "customer_features"


class SystemState(Model):
    """A small named JSON value the engine keeps between runs (watermarks, RFM cut points)."""

    key = fields.CharField(max_length=100, primary_key=True)
    value: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "system_state"


class Installation(Model):
    """A chat platform's credentials for one workspace (Slack's OAuth installation), as the platform gave them."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    workspace = fields.CharField(max_length=64, description="enterprise id and team id, as 'E:T'")
    data: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    installed_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    active = fields.BooleanField(
        default=True,
        db_default=True,
        description="False once the app was uninstalled there or its token refused, until reinstalled.",
    )
    inactive_since = fields.DatetimeField(null=True)
    inactive_reason = fields.CharField(
        max_length=64, null=True, description="Why: app_uninstalled, tokens_revoked, or the code the platform refused"
    )
    scope = fields.CharField(
        max_length=64, null=True, description="The address prefix of the workspace's chats ('T123:'): its rows"
    )

    class Meta:
        table = "installation"
        unique_together = (("channel", "workspace"),)


class InboundUpdate(Model):
    """An update or event a platform delivered, by its own id: a redelivery of it does nothing.

    The first delivery is handled; one of the same id (a webhook that answered late or not 2xx, Slack's retries)
    is acknowledged and dropped."""

    id = fields.BigIntField(primary_key=True)
    channel = fields.CharField(max_length=16)
    key = fields.CharField(max_length=128, description="the platform's id of the update, with its bot or workspace")
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "inbound_update"
        unique_together = (("channel", "key"),)


class Campaign(Model):
    """A campaign as launched: its YAML snapshot and hash, and where it stands."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=100, unique=True)
    name = fields.CharField(max_length=200, default="")
    yaml = fields.TextField()
    yaml_hash = fields.CharField(max_length=64)
    status = fields.CharField(max_length=16, default="draft")
    kind = fields.CharField(
        max_length=16, default="marketing", db_default="marketing", description="marketing, or notices: order notices."
    )
    next_run_at = fields.DatetimeField(null=True, description="The next run of a recurring (cron) campaign, or None")
    follow_up_steps = fields.IntField(
        default=0,
        db_default=0,
        description="How many follow-ups its file has: only the follow-up sweep, which reads the file, closes one"
        " that has some.",
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "campaign"


class Delivery(Model):
    """One message of one campaign step to one customer: the outbox row, at most one per step and customer."""

    id = fields.BigIntField(primary_key=True)
    campaign: fields.ForeignKeyRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="deliveries", on_delete=fields.CASCADE
    )
    campaign_id: int
    step = fields.CharField(max_length=64)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="deliveries", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=16)
    address = fields.CharField(max_length=128, null=True)
    variant = fields.CharField(max_length=32, null=True)
    persona = fields.CharField(max_length=64, null=True)
    text = fields.TextField(null=True)
    buttons: fields.Field[list[dict[str, str]]] = fields.JSONField(default=list)
    image_url = fields.TextField(null=True, description="The picture sent with the text (its caption): https.")
    image_alt = fields.TextField(null=True, description="The picture's words for people who cannot see it.")
    due_at = fields.DatetimeField(null=True)
    status = fields.CharField(max_length=16, default="planned")
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(null=True)
    sent_at = fields.DatetimeField(null=True)
    provider_message_id = fields.CharField(max_length=128, null=True)
    pieces: fields.Field[list[str] | None] = fields.JSONField(
        null=True,
        description="A split message's pieces, by the platform's ids: those sent so far (a retry sends the rest), "
        "all of them once sent.",
    )
    error = fields.TextField(null=True)
    copy_source = fields.CharField(
        max_length=16, null=True, description="Who wrote the text: template, model, or fallback (model refused)."
    )
    note = fields.TextField(null=True, description="Why: the writer's fallback reason, or why the row was skipped.")
    timing = fields.CharField(
        max_length=8, null=True, description="send_time best: the arm, best (learnt hour) or fixed (the control)."
    )
    copy_arm = fields.CharField(
        max_length=8, null=True, description="copy_test: the arm, llm or template (the control), as assigned."
    )
    links_tracked = fields.BooleanField(
        null=True,
        description="Whether its links went out tracked (their clicks measured), as of its send (null before).",
    )
    claimed_by = fields.CharField(max_length=64, null=True, description="The dispatcher sending it now.")
    claimed_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "delivery"
        unique_together = (("campaign", "step", "customer"),)
        indexes = (
            ("status", "due_at"),
            ("customer_id",),
            # a campaign's rows by state, their customers in order: reached customers are counted without a sort
            ("campaign_id", "status", "customer_id"),
            # the report's funnel reads this index alone, already in its groups' order
            (
                "campaign_id",
                "step",
                "variant",
                "persona",
                "channel",
                "status",
                "note",
                "timing",
                "copy_arm",
                "copy_source",
            ),
        )


class SendTime(Model):
    """A customer's best hour of the week to hear from the shop, learnt from their engagement (segments.sendtime)."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.OneToOneRelation[Customer] = fields.OneToOneField(
        "models.Customer", related_name="send_time", on_delete=fields.CASCADE
    )
    hour = fields.SmallIntField(description="Hour of the week in the customer's timezone: 0 is Monday 00:00-01:00.")
    source = fields.CharField(max_length=8, description="What decided it: history, persona or global.")
    events = fields.FloatField(default=0, description="The weighted engagement events it was learnt from.")
    fitted_at = fields.DatetimeField()

    class Meta:
        table = "send_time"


class OrderNotice(Model):
    """An order's status change that the customer is told about once.

    Unique per order and ``key``: the status, or ``delayed:<date>`` for each new date. ``delivery`` is the message
    once queued; ``note`` says why none was.
    """

    id = fields.BigIntField(primary_key=True)
    order: fields.ForeignKeyRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="notices", on_delete=fields.CASCADE
    )
    key = fields.CharField(max_length=32)
    status = fields.CharField(max_length=16)
    tracking_url = fields.CharField(max_length=500, null=True)
    carrier = fields.CharField(max_length=64, null=True)
    expected_at = fields.DatetimeField(null=True)
    at = fields.DatetimeField(description="When the change arrived.")
    delivery: fields.ForeignKeyNullableRelation[Delivery] = fields.ForeignKeyField(
        "models.Delivery", related_name="notices", null=True, on_delete=fields.SET_NULL
    )
    note = fields.CharField(max_length=32, null=True, description="Why no message was queued: no_chat.")

    class Meta:
        table = "order_notice"
        unique_together = (("order", "key"),)


class CopyCache(Model):
    """Text a writer produced, by the hash of everything it was given: a re-plan or a preview costs nothing twice."""

    key = fields.CharField(max_length=64, primary_key=True)
    value: fields.Field[dict[str, object]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "copy_cache"


class Event(Model):
    """Something that happened: sent, clicked, replied, converted, opted_out, blocked (kept for counts)."""

    id = fields.BigIntField(primary_key=True)
    type = fields.CharField(max_length=32)
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    delivery: fields.ForeignKeyNullableRelation[Delivery] = fields.ForeignKeyField(
        "models.Delivery", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order",
        related_name="events",
        null=True,
        on_delete=fields.SET_NULL,
        description="The order a converted event credits: one converted event per order at most.",
    )
    at = fields.DatetimeField()
    data: fields.Field[dict[str, object]] = fields.JSONField(default=dict)

    class Meta:
        table = "event"
        indexes = (("customer_id", "at"), ("campaign_id", "type"), ("type", "at"), ("delivery_id",))
        unique_together = (("type", "order"),)  # events of no order (NULL) are never equal: only orders are unique


class ChatMessage(Model):
    """One message of a conversation between a customer and the assistant or staff."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="chat_messages", on_delete=fields.CASCADE
    )
    channel = fields.CharField(max_length=16)
    role = fields.CharField(max_length=16)
    text = fields.TextField()
    sentiment = fields.FloatField(null=True)
    at = fields.DatetimeField()

    class Meta:
        table = "chat_message"
        # by time alone: an incremental segments refresh finds whose words entered or left the sentiment window
        indexes = (("customer_id", "at"), ("at",))


class Conversation(Model):
    """A customer's conversation with the shop: its rolling summary, and who answers (the assistant or a person)."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="conversations", on_delete=fields.CASCADE
    )
    customer_id: int
    channel = fields.CharField(max_length=16, description="Where the customer last wrote from.")
    address = fields.CharField(max_length=128)
    summary = fields.TextField(default="", description="What was said before the messages the assistant rereads.")
    summarised_until = fields.DatetimeField(null=True)
    holder = fields.CharField(max_length=16, default="assistant", description="assistant, or human after a hand-off.")
    handoff_reason = fields.CharField(max_length=32, null=True, description="asked, unanswered, or negative.")
    handoff_at = fields.DatetimeField(null=True)
    staff_thread = fields.CharField(max_length=160, null=True, db_index=True, description="The staff's thread on it.")
    failures = fields.IntField(default=0, description="Customer messages in a row the assistant could not answer.")
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "conversation"
        unique_together = (("customer",),)  # one conversation per customer (the FK's unique= is not enforced)


class Feedback(Model):
    """What a customer said about an order's products or a campaign, with its sentiment and themes."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="feedback", on_delete=fields.CASCADE
    )
    order: fields.ForeignKeyNullableRelation[Order] = fields.ForeignKeyField(
        "models.Order", related_name="feedback", on_delete=fields.SET_NULL, null=True
    )
    campaign: fields.ForeignKeyNullableRelation[Campaign] = fields.ForeignKeyField(
        "models.Campaign", related_name="feedback", on_delete=fields.SET_NULL, null=True
    )
    products: fields.Field[list[str]] = fields.JSONField(default=list, description="SKUs the feedback is about.")
    text = fields.TextField()
    sentiment = fields.FloatField()
    themes: fields.Field[list[str]] = fields.JSONField(default=list)
    at = fields.DatetimeField()

    class Meta:
        table = "feedback"
        indexes = (("campaign_id",), ("at",), ("customer_id", "at"))


class Review(Model):
    """A customer's review of a product, as imported, with the sentiment and themes found in its text."""

    id = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True, description="The file's review id, else a hash of the row.")
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="reviews", on_delete=fields.CASCADE
    )
    product_id: int
    customer: fields.ForeignKeyNullableRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="reviews", on_delete=fields.SET_NULL, null=True
    )
    rating = fields.FloatField(null=True, description="Stars, 1 to 5, when the review has them.")
    text = fields.TextField()
    sentiment = fields.FloatField()
    themes: fields.Field[list[str]] = fields.JSONField(default=list)
    at = fields.DatetimeField(null=True, description="When it was written, when known.")

    class Meta:
        table = "review"
        indexes = (("product_id",),)


class ProductCopy(Model):
    """A written description of a product in one language (long, and short for chat) and where it stands."""

    id = fields.BigIntField(primary_key=True)
    product: fields.ForeignKeyRelation[Product] = fields.ForeignKeyField(
        "models.Product", related_name="copies", on_delete=fields.CASCADE
    )
    product_id: int
    language = fields.CharField(max_length=16)
    long = fields.TextField()
    short = fields.TextField()
    status = fields.CharField(max_length=16, default="draft", description="draft, approved, rejected or replaced.")
    source = fields.CharField(max_length=16, description="model, template, or fallback (the model's failed).")
    note = fields.TextField(null=True, description="Why the model's text was not used.")
    facts: fields.Field[dict[str, object]] = fields.JSONField(default=dict, description="What it was written from.")
    created_at = fields.DatetimeField(auto_now_add=True)
    reviewed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "product_copy"
        indexes = (("product_id", "language", "status"),)


class Complaint(Model):
    """A complaint: opened by a strongly negative message, open until staff or better words resolve it."""

    id = fields.BigIntField(primary_key=True)
    customer: fields.ForeignKeyRelation[Customer] = fields.ForeignKeyField(
        "models.Customer", related_name="complaints", on_delete=fields.CASCADE
    )
    customer_id: int
    opened_at = fields.DatetimeField()
    source = fields.CharField(
        max_length=16, description="message, or feedback (an answer about an order or a campaign)."
    )
    feedback: fields.ForeignKeyNullableRelation[Feedback] = fields.ForeignKeyField(
        "models.Feedback", related_name="complaints", on_delete=fields.SET_NULL, null=True
    )
    text = fields.TextField(default="", description="What the customer said, cut short.")
    resolved_at = fields.DatetimeField(null=True)
    resolution = fields.CharField(max_length=32, null=True, description="staff, cli, dashboard or positive_feedback.")

    class Meta:
        table = "complaint"
        indexes = (("customer_id", "resolved_at"),)


class ExchangeRate(Model):
    """What one unit of a currency is worth in the shop's currency (``CHATCAST_SHOP_CURRENCY``), for reports that
    add revenue up across currencies; set with ``chatcast config rates``."""

    currency = fields.CharField(max_length=3, primary_key=True, description="ISO 4217 code, upper case.")
    per_unit_in_shop_currency = fields.FloatField()
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "exchange_rate"
