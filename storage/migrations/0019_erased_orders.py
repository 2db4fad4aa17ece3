from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0018_pieces')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='Order',
            name='customer',
            field=fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, description="Null once the customer is erased: the order stays, anonymous, for the shop's counts.", db_constraint=True, to_field='id', related_name='orders', on_delete=OnDelete.CASCADE),
        ),
    ]
