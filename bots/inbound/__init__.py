"""The inbound side, beside the channels that produce it: what the engine does when someone acts in a chat
(opt in, opt out, press a button, write), the signed deep links that tie a chat to a customer, and opt-out
in words.

May import: `campaigns.ports`, `campaigns.notices.queue`, `storage`. Never a channel SDK.
"""
