"""The campaign file: the YAML a marketer writes, read into typed models (definition, loader) with every
mistake at its file, line and field; its wording and amounts, the per-step text and the templates.

First stage. May import: ``campaigns.ports``, ``segments`` (the definitions to check against), ``storage``.
Whether the campaign can go out as written now is asked of the ``Shop`` the loader is given (timing answers).
"""
