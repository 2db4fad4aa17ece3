"""A customer's columns, named once: a customers file's, the customer table's that an import writes, and the
export's. The chat address columns are
the channels' own: each channel declares its column in the registry (``bots.registry``)."""

from __future__ import annotations

# the customer's own fields: a file's columns and the table's, in this order; external_id is the shop's key
CUSTOMER_COLUMNS = (
    "external_id",
    "name",
    "email",
    "phone",
    "language",
    "timezone",
    "country",
    "tags",
    "attributes",
    "opted_in_at",
    "opted_out_at",
    "consent_source",
)
# what an import may overwrite in a customer it knows: every field but the key
UPDATABLE_COLUMNS = CUSTOMER_COLUMNS[1:]
# what Chatcast adds to a customer, exported beside the fields: the notices switch, the persona, when it was made
KEPT_COLUMNS = ("notices_off_at", "persona", "created_at")
