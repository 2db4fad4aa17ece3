from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0010_order_notices')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Complaint',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='complaints', on_delete=OnDelete.CASCADE)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('source', fields.CharField(description='message, or feedback (an answer about an order or a campaign).', max_length=16)),
                ('feedback', fields.ForeignKeyField('models.Feedback', source_field='feedback_id', null=True, db_constraint=True, to_field='id', related_name='complaints', on_delete=OnDelete.SET_NULL)),
                ('text', fields.TextField(default='', description='What the customer said, cut short.', unique=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolution', fields.CharField(null=True, description='staff, cli, dashboard or positive_feedback.', max_length=32)),
            ],
            options={'table': 'complaint', 'app': 'models', 'indexes': [Index(fields=['customer_id', 'resolved_at'])], 'pk_attr': 'id', 'table_description': 'A complaint: opened by a strongly negative message, open until staff or better words resolve it.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='CustomerFeatures',
            name='negative_skus',
            field=fields.JSONField(default=list, description='SKUs of negative feedback.', encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddField(
            model_name='CustomerFeatures',
            name='open_complaint',
            field=fields.BooleanField(default=False),
        ),
        ops.AddField(
            model_name='CustomerFeatures',
            name='sentiment_30d',
            field=fields.FloatField(null=True, description='Mean sentiment of the words of the last 30 days, null without any.'),
        ),
        ops.AddIndex(
            model_name='Feedback',
            index=Index(fields=['customer_id', 'at']),
        ),
    ]
