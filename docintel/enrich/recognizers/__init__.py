"""UK personal-data recognizers (one module per family) and the registry that builds them from ``config/pii.yaml``.

The package itself imports nothing: :mod:`docintel.enrich.recognizers.checksums` (check digits, used by the
invoice reader and subject access search) must load without Presidio and spaCy, which cost seconds. The Presidio
recognizers are built through :mod:`docintel.enrich.recognizers.registry`.
"""
