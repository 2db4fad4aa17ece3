from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0020_credits')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExchangeRate',
            fields=[
                ('currency', fields.CharField(primary_key=True, unique=True, db_index=True, description='ISO 4217 code, upper case.', max_length=3)),
                ('per_unit_in_shop_currency', fields.FloatField()),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'exchange_rate', 'app': 'models', 'pk_attr': 'currency', 'table_description': "What one unit of a currency is worth in the shop's currency (``CHATCAST_SHOP_CURRENCY``), for reports that"},
            bases=['Model'],
        ),
    ]
