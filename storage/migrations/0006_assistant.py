from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_recurring')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Conversation',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', unique=True, db_constraint=True, to_field='id', related_name='conversations', on_delete=OnDelete.CASCADE)),
                ('channel', fields.CharField(description='Where the customer last wrote from.', max_length=16)),
                ('address', fields.CharField(max_length=128)),
                ('summary', fields.TextField(default='', description='What was said before the messages the assistant rereads.', unique=False)),
                ('summarised_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('holder', fields.CharField(default='assistant', description='assistant, or human after a hand-off.', max_length=16)),
                ('handoff_reason', fields.CharField(null=True, description='asked, unanswered, or negative.', max_length=32)),
                ('handoff_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('staff_thread', fields.CharField(null=True, db_index=True, description="The staff's thread on it.", max_length=160)),
                ('failures', fields.IntField(default=0, description='Customer messages in a row the assistant could not answer.')),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'conversation', 'app': 'models', 'pk_attr': 'id', 'table_description': "A customer's conversation with the shop: its rolling summary, and who answers (the assistant or a person)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Feedback',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.CASCADE)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', null=True, db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.SET_NULL)),
                ('campaign', fields.ForeignKeyField('models.Campaign', source_field='campaign_id', null=True, db_constraint=True, to_field='id', related_name='feedback', on_delete=OnDelete.SET_NULL)),
                ('products', fields.JSONField(default=list, description='SKUs the feedback is about.', encoder=JSON_DUMPS, decoder=loads)),
                ('text', fields.TextField(unique=False)),
                ('sentiment', fields.FloatField()),
                ('themes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'feedback', 'app': 'models', 'indexes': [Index(fields=['campaign_id']), Index(fields=['at'])], 'pk_attr': 'id', 'table_description': "What a customer said about an order's products or a campaign, with its sentiment and themes."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Order',
            name='feedback_asked_at',
            field=fields.DatetimeField(null=True, description='When the customer was asked about this order.', auto_now=False, auto_now_add=False),
        ),
    ]
