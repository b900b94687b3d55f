"""The webhooks' HTTP edge and the one mapping of domain errors to HTTP."""
