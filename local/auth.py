"""The local stand-in for the API's Cognito user-pool authorizer.

Tokens are HS256 JWTs signed with a secret kept in `<data-dir>/auth/jwt-secret` (created on first start,
so tokens survive a restart), with the claims of a Cognito ID token: `sub`, `email`, `cognito:username`,
`cognito:groups`, `token_use: id`, `iss`, `aud`, `iat`, `exp`, `auth_time`.

Authenticated routes take `Authorization: <jwt>` or `Authorization: Bearer <jwt>`; a missing, invalid or
expired token gets API Gateway's `401 {"message":"Unauthorized"}`. The handler sees the claims where API
Gateway (REST) puts Cognito claims, `requestContext.authorizer.claims`, every value a string:
`cognito:groups` comma-separated, `exp`/`iat` as `Mon Jan 21 19:25:35 UTC 2019`.

Acting as a user: `GET /local/token` returns `{"token": ..., "claims": ...}` for the dev admin
(`dev@clinic.test`, group `admin`). Ask for anyone else with query parameters:

    curl -s 'http://127.0.0.1:3000/local/token?email=frontdesk@clinic.test&groups=staff'
    curl -s 'http://127.0.0.1:3000/local/token?email=boss@clinic.test&groups=manager,staff'
    curl -s 'http://127.0.0.1:3000/local/token?email=nobody@clinic.test&groups='     # no groups
    curl -s 'http://127.0.0.1:3000/local/token?email=x@clinic.test&custom:practice_id=p1'  # extra claims

then `curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/api/...`. The `sub` is the one the local
user pool gave that email's login (made when a practice added the user), as a Cognito token would carry it;
an email with no login gets one derived from it, which no user has. `ttl` (seconds, default 12 h) sets the
lifetime.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from pathlib import Path
from typing import Any

import jwt

DEV_EMAIL = "dev@clinic.test"
DEV_GROUPS = ("admin",)
DEFAULT_TTL_SECONDS = 12 * 3600
_SUB_NAMESPACE = uuid.UUID("5d8f3c1e-0f57-4b6e-9a51-7c1f3b0e2a10")


def subject_for(email: str) -> str:
    """A stable Cognito-style `sub` (a UUID) for an email address."""
    return str(uuid.uuid5(_SUB_NAMESPACE, email.strip().lower()))


def _cognito_time(epoch: int) -> str:
    """API Gateway renders Cognito's numeric date claims as `Mon Jan 21 19:25:35 UTC 2019`."""
    parts = formatdate(epoch, usegmt=True).replace(",", "").split()  # Mon 21 Jan 2019 19:25:35 GMT
    weekday, day, month, year, clock = parts[:5]
    return f"{weekday} {month} {day} {clock} UTC {year}"


def api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """JWT claims as API Gateway (REST) passes them to Lambda: every value a string."""
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat") and isinstance(value, int | float):
            shaped[name] = _cognito_time(int(value))
        elif isinstance(value, bool):
            shaped[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            shaped[name] = ",".join(str(item) for item in value)
        else:
            shaped[name] = str(value)
    return shaped


class LocalAuthorizer:
    """Issues and checks the local ID tokens."""

    def __init__(self, data_dir: Path, region: str = "us-east-1", pool_id: str = "us-east-1_local",
                 subject_of: Callable[[str], str | None] | None = None) -> None:
        self.issuer = f"https://cognito-idp.{region}.amazonaws.com/{pool_id}"
        self.audience = "switchboard-local-console"
        self._secret = _load_or_create_secret(data_dir / "auth" / "jwt-secret")
        self._subject_of = subject_of

    def issue(
        self,
        email: str = DEV_EMAIL,
        groups: Iterable[str] = DEV_GROUPS,
        ttl_seconds: int = DEFAULT_TTL_SECONDS,
        extra_claims: Mapping[str, Any] | None = None,
    ) -> tuple[str, dict[str, Any]]:
        """A signed token and its claims for `email` in `groups`."""
        now = int(time.time())
        sub = (self._subject_of(email) if self._subject_of else None) or subject_for(email)
        claims: dict[str, Any] = {
            "sub": sub,
            "email": email,
            "email_verified": True,
            "cognito:username": sub,  # the pool signs in by email, so the username is the sub
            "cognito:groups": [group for group in groups if group],
            "token_use": "id",
            "iss": self.issuer,
            "aud": self.audience,
            "auth_time": now,
            "iat": now,
            "exp": now + ttl_seconds,
            "event_id": str(uuid.uuid4()),
            **(extra_claims or {}),
        }
        if not claims["cognito:groups"]:
            del claims["cognito:groups"]  # Cognito omits the claim for a user in no group
        return jwt.encode(claims, self._secret, algorithm="HS256"), claims

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """The claims of a valid `Authorization` header value (`<jwt>` or `Bearer <jwt>`), else None."""
        if not authorization:
            return None
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": ["exp", "sub", "token_use"]},
            )
        except jwt.PyJWTError:
            return None
        return claims if claims.get("token_use") == "id" else None

    def token_response(self, query: Mapping[str, list[str]]) -> dict[str, Any]:
        """The body of `GET /local/token` for its query (`email`, `groups`, `ttl`, `custom:*`)."""
        email = (query.get("email") or [DEV_EMAIL])[-1] or DEV_EMAIL
        if "groups" in query:
            groups = [g.strip() for value in query["groups"] for g in value.split(",") if g.strip()]
        else:
            groups = list(DEV_GROUPS)
        ttl = int((query.get("ttl") or [str(DEFAULT_TTL_SECONDS)])[-1])
        extra = {name: values[-1] for name, values in query.items() if name.startswith("custom:")}
        token, claims = self.issue(email, groups, ttl, extra)
        return {"token": token, "claims": claims}


def _load_or_create_secret(path: Path) -> str:
    if path.is_file():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_hex(32)
    path.touch(mode=0o600)
    path.write_text(secret, encoding="utf-8")
    return secret
