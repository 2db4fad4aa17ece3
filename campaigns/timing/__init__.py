"""Timing: when a message may go. Local time, send windows and quiet hours (``when``), each row's due time
(``due``), the best send time, recurring runs, follow-ups' windows, conditions and sweeps, whether a campaign
can go out as written now (``readiness``), and the injectable clock.

May import: ``campaigns.file``, ``campaigns.audience``, ``campaigns.ports``, ``segments``, ``storage``.
"""
