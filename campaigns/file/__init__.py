"""The campaign file: the YAML a marketer writes, read into typed models (definition, loader), its wording
and amounts, the per-step text, the templates, and the readiness checks `campaign validate` runs.

First stage of the data path. May import: `segments` (definitions to check against), `storage` (read-only
references), `campaigns.ports`. Never a later stage.
"""
