"""HS256 bearer tokens: minting for `importer token`, verification for the API."""

from __future__ import annotations

import math
import time
from typing import Any
from uuid import UUID

import attrs
import jwt

from importer.errors import Unauthorized
from importer.storable import storable_text

ALGORITHM = "HS256"
# Clocks of the issuer and of this server may differ: `exp`, `nbf` and `iat` are checked with
# this much slack (API.md, "Errors").
LEEWAY_SECONDS = 30
TIME_CLAIMS = ("exp", "nbf", "iat")
# What users.email can hold (schema/0001, users_email_length): a longer or shorter claim, or one
# that is not storable text, is no e-mail at all.
EMAIL_MIN_LENGTH = 3
EMAIL_MAX_LENGTH = 320


@attrs.frozen(kw_only=True)
class Claims:
    user_id: UUID
    email: str | None
    role: str | None

    @property
    def is_operator(self) -> bool:
        return self.role == "service_role"


def mint(secret: str, sub: UUID | str, *, email: str | None = None, ttl: int = 3600,
         role: str | None = None, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    claims: dict[str, object] = {"sub": str(UUID(str(sub))), "iat": issued, "exp": issued + ttl}
    if email:
        claims["email"] = email
    if role:
        claims["role"] = role
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(secret: str, token: str) -> Claims:
    """Claims of a valid token; Unauthorized for anything else.

    Only HS256 is accepted: pinning the algorithm list is what rejects `alg: none` and
    algorithm-confusion tokens. `sub` and `exp` are required; `exp`, `nbf` and `iat` must be
    JSON numbers (PyJWT would take "1700000000" or true too) and are checked with
    LEEWAY_SECONDS of slack. An `email` claim that users.email cannot hold (not a string, too
    short or long, NUL or a lone surrogate) counts as absent: it must not make every request of
    an otherwise valid token fail. Whether it is one address is decided where e-mail is sent
    (importer/mail/recipient.py).
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], leeway=LEEWAY_SECONDS,
                            options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired.", code="token_expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"The token is not valid: {exc}.", code="invalid_token") from None
    for name in TIME_CLAIMS:
        if name in claims and not _is_number(claims[name]):
            raise Unauthorized(f"The token's {name} must be a number.", code="invalid_token")
    sub = claims["sub"]
    try:
        user_id = UUID(sub) if isinstance(sub, str) else None
    except ValueError:
        user_id = None
    if user_id is None:
        raise Unauthorized("The token's sub must be a user UUID.", code="invalid_token")
    role = claims.get("role")
    return Claims(
        user_id=user_id,
        email=storable_email(claims.get("email")),
        role=role if isinstance(role, str) else None,
    )


def _is_number(value: Any) -> bool:
    # bool is an int in Python, but `true` is no time.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def storable_email(value: Any) -> str | None:
    """`value` when users.email can hold it: a string of EMAIL_MIN_LENGTH to EMAIL_MAX_LENGTH
    characters with no NUL and no lone surrogate; None for anything else."""
    if not isinstance(value, str) or not EMAIL_MIN_LENGTH <= len(value) <= EMAIL_MAX_LENGTH:
        return None
    if not storable_text(value):
        return None
    return value
