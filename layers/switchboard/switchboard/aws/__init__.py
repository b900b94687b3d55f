"""Queues, events and API keys: the AWS services besides DynamoDB, each behind a few functions."""
