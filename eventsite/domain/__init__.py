"""The domain: models, clock, errors, the state machine, the hold rule, capacity counting and input rules.

Imports only itself, SQLAlchemy and the standard library (checked by import-linter)."""
