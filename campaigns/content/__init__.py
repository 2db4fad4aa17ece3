"""Content: what each row says. Compose fills each planned row with text from a writer (the template
writer, or the OpenAI one), checked by the guardrails and claims checks; preview and proof show it.

May import: ``campaigns.file``, ``campaigns.audience``, ``campaigns.timing``, ``campaigns.ports``,
``segments``, ``storage``.
"""
