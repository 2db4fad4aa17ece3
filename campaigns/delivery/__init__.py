"""Delivery: due rows out through a channel. The dispatcher claims rows, sends under the channel's rate
limits (`limits`), records receipts and errors and retries by rule (`retry`).

May import: `campaigns.ports`, `storage`.
"""
