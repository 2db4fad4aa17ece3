"""Results: what a campaign did. The funnel report, A/B experiments, attribution of orders, and the metrics
that `serve` exposes.

May import: `campaigns.file`, `campaigns.ports`, `storage`.
"""
