from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0022_tracked_links')]

    initial = False

    operations = [
        ops.RemoveIndex(
            model_name='Delivery',
            name=None,
            fields=['campaign_id', 'status'],
        ),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['campaign_id', 'status', 'customer_id']),
        ),
        ops.AddIndex(
            model_name='Delivery',
            index=Index(fields=['campaign_id', 'step', 'variant', 'persona', 'channel', 'status', 'note', 'timing', 'copy_arm', 'copy_source']),
        ),
    ]
