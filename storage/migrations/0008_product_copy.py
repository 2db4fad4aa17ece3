from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_one_conversation')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProductCopy',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='copies', on_delete=OnDelete.CASCADE)),
                ('language', fields.CharField(max_length=16)),
                ('long', fields.TextField(unique=False)),
                ('short', fields.TextField(unique=False)),
                ('status', fields.CharField(default='draft', description='draft, approved, rejected or replaced.', max_length=16)),
                ('source', fields.CharField(description="model, template, or fallback (the model's failed).", max_length=16)),
                ('note', fields.TextField(null=True, description="Why the model's text was not used.", unique=False)),
                ('facts', fields.JSONField(default=dict, description='What it was written from.', encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('reviewed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'product_copy', 'app': 'models', 'indexes': [Index(fields=['product_id', 'language', 'status'])], 'pk_attr': 'id', 'table_description': 'A written description of a product in one language (long, and short for chat) and where it stands.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Review',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, description="The file's review id, else a hash of the row.", max_length=64)),
                ('product', fields.ForeignKeyField('models.Product', source_field='product_id', db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.CASCADE)),
                ('customer', fields.ForeignKeyField('models.Customer', source_field='customer_id', null=True, db_constraint=True, to_field='id', related_name='reviews', on_delete=OnDelete.SET_NULL)),
                ('rating', fields.FloatField(null=True, description='Stars, 1 to 5, when the review has them.')),
                ('text', fields.TextField(unique=False)),
                ('sentiment', fields.FloatField()),
                ('themes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('at', fields.DatetimeField(null=True, description='When it was written, when known.', auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'review', 'app': 'models', 'indexes': [Index(fields=['product_id'])], 'pk_attr': 'id', 'table_description': "A customer's review of a product, as imported, with the sentiment and themes found in its text."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Product',
            name='attributes',
            field=fields.JSONField(default=dict, description='Specifications (material, weight_g...): facts a description may state.', encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
