from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0015_inbound_updates')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Delivery',
            name='image_alt',
            field=fields.TextField(null=True, description="The picture's words for people who cannot see it.", unique=False),
        ),
        ops.AddField(
            model_name='Delivery',
            name='image_url',
            field=fields.TextField(null=True, description='The picture sent with the text (its caption): https.', unique=False),
        ),
    ]
