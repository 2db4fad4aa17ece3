from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0012_chat_message_at')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Campaign',
            name='follow_up_steps',
            field=fields.IntField(default=0, description='How many follow-ups its file has: only the follow-up sweep, which reads the file, closes one that has some.', db_default=0),
        ),
    ]
