from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint


async def credit_orders_by_id(apps, schema_editor) -> None:
    """Converted events recorded before this migration name their order in their data only: link the first of each
    order's to it, so that the unique (type, order_id) key keeps a redelivered order from being credited again."""
    client = schema_editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_script(
            "UPDATE event e SET order_id = o.id FROM \"order\" o WHERE e.type = 'converted'"
            " AND o.external_id = e.data->>'order' AND e.id IN"
            " (SELECT MIN(id) FROM event WHERE type = 'converted' GROUP BY data->>'order')"
        )
    else:
        await client.execute_script(
            "UPDATE event SET order_id = (SELECT o.id FROM \"order\" o"
            " WHERE o.external_id = json_extract(event.data, '$.order')) WHERE type = 'converted' AND id IN"
            " (SELECT MIN(id) FROM event WHERE type = 'converted' GROUP BY json_extract(data, '$.order'))"
        )

class Migration(migrations.Migration):
    dependencies = [('models', '0019_erased_orders')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Event',
            name='order',
            field=fields.ForeignKeyField('models.Order', source_field='order_id', null=True, description='The order a converted event credits: one converted event per order at most.', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.SET_NULL),
        ),
        ops.RunPython(credit_orders_by_id, ops.RunPython.noop),
        ops.AddConstraint(
            model_name='Event',
            constraint=UniqueConstraint(fields=('type', 'order'), name=None),
        ),
        ops.AddField(
            model_name='Order',
            name='refunded',
            field=fields.FloatField(default=0, description='Refunded on the order without a return of its own: a partial refund.', db_default=0),
        ),
        ops.AddField(
            model_name='Order',
            name='return_of',
            field=fields.CharField(null=True, description="A return's original order (its external id), where the shop names it.", max_length=64),
        ),
        ops.AddIndex(
            model_name='Order',
            index=Index(fields=['return_of']),
        ),
    ]
