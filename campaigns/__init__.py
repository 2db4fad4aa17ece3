"""The campaign engine, one subpackage per stage of the data path, in order: the campaign file (``file``), whom
it reaches (``audience``), when each message may go (``timing``), what each says (``content``), sending
(``delivery``), what it did (``results``); order notices (``notices``) share the outbox and the dispatcher.

A stage imports only the stages before it (and ``campaigns.ports``, ``segments``, ``storage``): the walk from
a campaign's YAML to a delivery row goes forward. The pipeline calls the stages in order: ``launch`` (a launch,
and each run of a recurring campaign), ``jobs`` (what ``serve`` runs on intervals) and ``scheduler``.
"""
