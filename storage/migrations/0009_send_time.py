from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0008_product_copy')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SendTime',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('customer', fields.OneToOneField('models.Customer', source_field='customer_id', db_constraint=True, to_field='id', related_name='send_time', on_delete=OnDelete.CASCADE)),
                ('hour', fields.SmallIntField(description="Hour of the week in the customer's timezone: 0 is Monday 00:00-01:00.")),
                ('source', fields.CharField(description='What decided it: history, persona or global.', max_length=8)),
                ('events', fields.FloatField(default=0, description='The weighted engagement events it was learnt from.')),
                ('fitted_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'send_time', 'app': 'models', 'pk_attr': 'id', 'table_description': "A customer's best hour of the week to hear from the shop, learnt from their engagement (segments.sendtime)."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Delivery',
            name='copy_arm',
            field=fields.CharField(null=True, description='copy_test: the arm, llm or template (the control), as assigned.', max_length=8),
        ),
        ops.AddField(
            model_name='Delivery',
            name='timing',
            field=fields.CharField(null=True, description='send_time best: the arm, best (learnt hour) or fixed (the control).', max_length=8),
        ),
    ]
