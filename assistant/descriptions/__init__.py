"""Product descriptions: a product's long and short text written from its catalog facts and reviews,
checked by the campaign content's claims checks, kept as drafts and exported.

May import: `campaigns.content` (writer plumbing and checks), `storage`, `assistant`.
"""
