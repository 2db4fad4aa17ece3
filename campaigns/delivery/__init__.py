"""Delivery: due rows out through a channel. The dispatcher claims rows, sends under the channel's rate
limits (``limits``), records receipts and errors, retries by rule (``retry``) and counts what it did in the
process's metrics (``metrics``).

May import: the stages before it, ``campaigns.ports``, ``storage``.
"""
