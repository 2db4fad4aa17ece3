from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0021_exchange_rates')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='links_tracked',
            field=fields.BooleanField(null=True, description='Whether its links went out tracked (their clicks measured), as of its send (null before).'),
        ),
    ]
