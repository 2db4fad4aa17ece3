from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0016_media')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Installation',
            name='active',
            field=fields.BooleanField(default=True, description='False once the app was uninstalled there or its token refused, until reinstalled.', db_default=True),
        ),
        ops.AddField(
            model_name='Installation',
            name='inactive_reason',
            field=fields.CharField(null=True, description='Why: app_uninstalled, tokens_revoked, or the code the platform refused', max_length=64),
        ),
        ops.AddField(
            model_name='Installation',
            name='inactive_since',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Installation',
            name='scope',
            field=fields.CharField(null=True, description="The address prefix of the workspace's chats ('T123:'): its rows", max_length=64),
        ),
    ]
