from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0013_followup_windows')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Order',
            name='seen_at',
            field=fields.DatetimeField(null=True, description="When Chatcast first stored the order: an import's start or a webhook call.", auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='status_changed_at',
            field=fields.DatetimeField(null=True, description='When the order reached its status (null: history an import brought without a time).', auto_now=False, auto_now_add=False),
        ),
    ]
