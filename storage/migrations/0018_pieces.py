from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0017_installation_active')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='pieces',
            field=fields.JSONField(null=True, description="A split message's pieces, by the platform's ids: those sent so far (a retry sends the rest), all of them once sent.", encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
