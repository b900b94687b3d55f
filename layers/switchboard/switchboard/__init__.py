"""Switchboard's domain layer: rules, data access and the carrier, shared by every function."""
