from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SystemState',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=100)),
                ('value', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'system_state', 'app': 'models', 'pk_attr': 'key', 'table_description': 'A small named JSON value the engine keeps between runs (watermarks, RFM cut points).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Customer',
            name='persona',
            field=fields.CharField(null=True, description='Assigned by segments refresh.', max_length=64),
        ),
        ops.AddField(
            model_name='Customer',
            name='persona_at',
            field=fields.DatetimeField(null=True, description='When the persona was last computed.', auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Customer',
            index=Index(fields=['persona']),
        ),
    ]
