"""Results: what a campaign did. The funnel report, A/B experiments and the attribution of orders.

May import: the stages before it, ``campaigns.ports``, ``storage``.
"""
