from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0009_send_time')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrderNotice',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('order', fields.ForeignKeyField('models.Order', source_field='order_id', db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=32)),
                ('status', fields.CharField(max_length=16)),
                ('tracking_url', fields.CharField(null=True, max_length=500)),
                ('carrier', fields.CharField(null=True, max_length=64)),
                ('expected_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('at', fields.DatetimeField(description='When the change arrived.', auto_now=False, auto_now_add=False)),
                ('delivery', fields.ForeignKeyField('models.Delivery', source_field='delivery_id', null=True, db_constraint=True, to_field='id', related_name='notices', on_delete=OnDelete.SET_NULL)),
                ('note', fields.CharField(null=True, description='Why no message was queued: no_chat.', max_length=32)),
            ],
            options={'table': 'order_notice', 'app': 'models', 'unique_together': (('order', 'key'),), 'pk_attr': 'id', 'table_description': "An order's status change that the customer is told about once."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Campaign',
            name='kind',
            field=fields.CharField(default='marketing', description='marketing, or notices: order notices.', db_default='marketing', max_length=16),
        ),
        ops.AddField(
            model_name='Customer',
            name='notices_off_at',
            field=fields.DatetimeField(null=True, description='When the customer turned order notices off, which marketing consent does not touch.', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='carrier',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='Order',
            name='expected_at',
            field=fields.DatetimeField(null=True, description='When the shop expects it delivered.', auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Order',
            name='tracking_url',
            field=fields.CharField(null=True, max_length=500),
        ),
    ]
