"""Order notices: shipped, delayed, delivered and feedback requests, queued from order changes into the
outbox. Not a campaign: it shares only the outbox and the dispatcher with one.

May import: the stages before it, ``campaigns.ports``, ``storage``.
"""
