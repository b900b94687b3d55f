"""Settings, errors, observability, field types and phone numbers: what every room builds on."""
