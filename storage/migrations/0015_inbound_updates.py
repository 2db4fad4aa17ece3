from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0014_status_changed_at')]

    initial = False

    operations = [
        ops.CreateModel(
            name='InboundUpdate',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('channel', fields.CharField(max_length=16)),
                ('key', fields.CharField(description="the platform's id of the update, with its bot or workspace", max_length=128)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'inbound_update', 'app': 'models', 'unique_together': (('channel', 'key'),), 'pk_attr': 'id', 'table_description': 'An update or event a platform delivered, by its own id: a redelivery of it does nothing.'},
            bases=['Model'],
        ),
    ]
