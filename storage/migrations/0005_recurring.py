from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_engine')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Campaign',
            name='next_run_at',
            field=fields.DatetimeField(null=True, description="The next run of a recurring (cron) campaign, or None", auto_now=False, auto_now_add=False),
        ),
    ]
