"""Finding a workflow by the webhook token a phone system presents: one GetItem on the token's hash."""

from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from switchboard.rules.tokens import token_hash

from .models import TokenItem


def find_token(token: str) -> TokenItem | None:
    try:
        return TokenItem.get(f"TOKEN#{token_hash(token)}", "TOKEN")
    except DoesNotExist:
        return None
