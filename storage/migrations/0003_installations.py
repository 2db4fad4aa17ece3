from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_personas')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Installation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=16)),
                ('workspace', fields.CharField(description="enterprise id and team id, as 'E:T'", max_length=64)),
                ('data', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('installed_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'installation', 'app': 'models', 'unique_together': (('channel', 'workspace'),), 'pk_attr': 'id', 'table_description': "A chat platform's credentials for one workspace (Slack's OAuth installation), as the platform gave them."},
            bases=['Model'],
        ),
    ]
