"""Webhook tokens: minted per environment, stored only as a hash, recognised without a lookup table."""

from __future__ import annotations

import hashlib
import re
import secrets
from enum import StrEnum


class WorkflowKind(StrEnum):
    """What the phone system's webhook reports (kept here too: intake reads it from the token, without pydantic)."""

    CALL_TO_TEXT = "call_to_text"
    ABANDONED_CALL = "abandoned_call"


_TOKEN = re.compile(r"^(local|demo|prod)_[A-Za-z0-9_-]{43}$")


def mint_token(environment: str) -> str:
    return f"{environment}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_environment(token: str) -> str | None:
    """The environment a well-formed token was minted in; None for anything that is not a token."""
    return token.split("_", 1)[0] if _TOKEN.match(token) else None
