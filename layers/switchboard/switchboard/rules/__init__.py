"""The clinic's models and pure rules (hours, keywords, templates, routing): no I/O."""
