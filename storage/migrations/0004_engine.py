from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_installations')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CopyCache',
            fields=[
                ('key', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('value', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'copy_cache', 'app': 'models', 'pk_attr': 'key', 'table_description': 'Text a writer produced, by the hash of everything it was given: a re-plan or a preview costs nothing twice.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Delivery',
            name='claimed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Delivery',
            name='claimed_by',
            field=fields.CharField(null=True, description='The dispatcher sending it now.', max_length=64),
        ),
        ops.AddField(
            model_name='Delivery',
            name='copy_source',
            field=fields.CharField(null=True, description='Who wrote the text: template, model, or fallback (model refused).', max_length=16),
        ),
        ops.AddField(
            model_name='Delivery',
            name='note',
            field=fields.TextField(null=True, description="Why: the writer's fallback reason, or why the row was skipped.", unique=False),
        ),
    ]
