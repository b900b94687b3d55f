"""Data access: the only package that knows table keys and talks to DynamoDB."""
