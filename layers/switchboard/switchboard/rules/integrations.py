"""Integration keys: how a clinic's systems (EMR triggers, recall lists) call the send API for one practice."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from switchboard.core.fields import DomainModel

KEY_PREFIX = "sbk_"
KeyName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class NewApiKey(DomainModel):
    model_config = ConfigDict(extra="forbid")

    name: KeyName


class ApiKey(DomainModel):
    key_id: str
    practice_id: str
    name: str
    revoked: bool
    created_by: str
    created_at: datetime
    last_used_at: datetime | None = None


class ApiKeyWithSecret(ApiKey):
    """Shown once, when the key is made; only its hash is kept."""

    key: str


def mint_key() -> str:
    # API Gateway usage-plan keys must be at least 20 characters; this is 47.
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
