"""Authorizer claims of the people tests act as, shaped as API Gateway passes a verified Cognito ID token's."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import boto3
import jwt

ADMIN = {"sub": "admin-1", "email": "admin@clinic.test", "email_verified": "true", "cognito:groups": "admin"}
STAFF = {"sub": "staff-1", "email": "staff@clinic.test", "email_verified": "true", "cognito:groups": "staff"}
PASSWORD = "Correct-horse-42-battery"


def claims_of(user: Mapping[str, Any], groups: str = "") -> dict[str, str]:
    """The claims a user the admin API added (its answer) signs in with: their login's `sub` and email."""
    return {"sub": str(user["user_id"]), "email": str(user["email"]), "email_verified": "true",
            "cognito:groups": groups}


def sign_in(email: str, password: str = PASSWORD) -> dict[str, str]:
    """Sign in through the user pool (moto's, in-process) as the invited person, once they chose `password`;
    the ID token's claims as the authorizer hands them to the function."""
    return authorizer_claims(sign_in_tokens(email, password)["IdToken"])


def sign_in_tokens(email: str, password: str = PASSWORD) -> dict[str, str]:
    """The tokens of a password sign-in, once the person replaced their invitation's temporary password."""
    from local.user_pool import password_sign_in

    return password_sign_in(boto3.client("cognito-idp"), os.environ["USER_POOL_ID"], os.environ["SIGN_IN_CLIENT_ID"],
                            email, password, choose_password=True)


def refreshed_claims(refresh_token: str) -> dict[str, str]:
    answer = boto3.client("cognito-idp").initiate_auth(
        ClientId=os.environ["SIGN_IN_CLIENT_ID"], AuthFlow="REFRESH_TOKEN_AUTH",
        AuthParameters={"REFRESH_TOKEN": refresh_token})
    return authorizer_claims(answer["AuthenticationResult"]["IdToken"])


def authorizer_claims(id_token: str) -> dict[str, str]:
    from local.auth import api_gateway_claims

    # The authorizer has verified the signature by the time the function runs; here the token is moto's own.
    return api_gateway_claims(dict(jwt.decode(id_token, options={"verify_signature": False})))
