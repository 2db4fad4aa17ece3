from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0006_assistant')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Conversation',
            name='customer',
            field=fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE),
        ),
        ops.AddConstraint(
            model_name='Conversation',
            constraint=UniqueConstraint(fields=('customer',), name=None),
        ),
    ]
