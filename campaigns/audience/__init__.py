"""Audience: whom a campaign reaches. The planner turns personas, segments, exclusions, consent,
reachability, frequency caps and the holdout into ``Delivery`` rows (SQL in ``sql``), and reads the same
selection for preview (``members``).

May import: ``campaigns.file``, ``campaigns.ports``, ``segments``, ``storage``.
"""
