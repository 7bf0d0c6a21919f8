"""A Microsoft Graph emulator faithful enough that the real msgraph-sdk cannot tell it from a tenant.

Modules, following a request: ``spec`` (tenant YAML) → ``tenant`` (compact item store, change journal)
and ``mail`` (mailboxes, folders, messages and their journal) → ``content`` (file bodies, message text and
MIME, generated on demand) and ``quickxor`` (hashes) → ``views`` (Graph JSON) →
``delta`` (delta rounds and tokens) → ``faults`` (injected failures, resource-unit throttling) →
``api`` (routing, ``$batch``) → ``download`` (the pre-authenticated content host) → ``control``
(``/_control`` mutations, faults, counters) → ``server`` (uvicorn, ``run``) and ``testing`` (a fixture
starter for tests).
"""
