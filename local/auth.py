"""The local stand-in for the API's Cognito user-pool authorizer, over the local user pool (moto's).

People sign in against the pool itself (the console's local sign-in form, or any Cognito client pointed at
`/local/cognito`); the gateway accepts what API Gateway's Cognito authorizer accepts: an ID token signed
with a key of the pool's JWKS, issued by the pool, for one of its app clients, not expired. A missing or
invalid token gets API Gateway's `401 {"message":"Unauthorized"}`. The handler sees the claims where API
Gateway (REST) puts them, `requestContext.authorizer.claims`, every value a string: `cognito:groups`
comma-separated, `exp`/`iat` as `Mon Jan 21 19:25:35 UTC 2019`.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from typing import Any

import jwt


def _cognito_time(epoch: int) -> str:
    """API Gateway renders Cognito's numeric date claims as `Mon Jan 21 19:25:35 UTC 2019`."""
    parts = formatdate(epoch, usegmt=True).replace(",", "").split()  # Mon 21 Jan 2019 19:25:35 GMT
    weekday, day, month, year, clock = parts[:5]
    return f"{weekday} {month} {day} {clock} UTC {year}"


def api_gateway_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """JWT claims as API Gateway (REST) passes them to Lambda: every value a string."""
    shaped: dict[str, str] = {}
    for name, value in claims.items():
        if name in ("exp", "iat", "auth_time") and isinstance(value, int | float):
            shaped[name] = _cognito_time(int(value))
        elif isinstance(value, bool):
            shaped[name] = "true" if value else "false"
        elif isinstance(value, list | tuple):
            shaped[name] = ",".join(str(item) for item in value)
        else:
            shaped[name] = str(value)
    return shaped


def published_keys(jwks_url: str) -> Callable[[], Mapping[str, Any]]:
    """The pool's JWKS, fetched from where it publishes them (`<pool>/.well-known/jwks.json`)."""

    def fetch() -> Mapping[str, Any]:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(jwks_url, timeout=10) as answer:
            keys: Mapping[str, Any] = json.load(answer)
        return keys

    return fetch


class PoolAuthorizer:
    """Checks ID tokens of one user pool, as the API's Cognito authorizer does."""

    def __init__(self, jwks: Callable[[], Mapping[str, Any]], issuer: str, client_ids: Iterable[str]) -> None:
        self.issuer = issuer
        self.client_ids = list(client_ids)
        self._jwks = jwks
        self._keys: jwt.PyJWKSet | None = None

    def _key(self, kid: str) -> Any:
        if self._keys is None:  # a pool's keys never change while it lives
            self._keys = jwt.PyJWKSet.from_dict(dict(self._jwks()))
        return next((key.key for key in self._keys.keys if key.key_id == kid), None)

    def verify(self, authorization: str | None) -> dict[str, Any] | None:
        """The claims of a valid `Authorization` header value (`<jwt>` or `Bearer <jwt>`), else None."""
        if not authorization:
            return None
        token = authorization.strip()
        if token[:7].lower() == "bearer ":
            token = token[7:].strip()
        try:
            key = self._key(str(jwt.get_unverified_header(token).get("kid", "")))
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=["RS256"], audience=self.client_ids, issuer=self.issuer,
                options={"require": ["exp", "sub", "token_use", "aud", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        return claims if claims.get("token_use") == "id" else None
