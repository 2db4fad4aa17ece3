"""Timing: when a message may go. Send windows, local time and quiet hours (`when`, `windows`), best send
time, recurring runs, follow-up due times and their conditions, and the injectable clock.

May import: `campaigns.file`, `campaigns.ports`, `segments`, `storage`.
"""
