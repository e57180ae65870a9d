"""HS256 bearer tokens: minting for `importer token`, verification for the API."""

from __future__ import annotations

import time
from uuid import UUID

import attrs
import jwt

from importer.errors import Unauthorized

ALGORITHM = "HS256"


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
    algorithm-confusion tokens. `sub` and `exp` are required.
    """
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM],
                            options={"require": ["sub", "exp"]})
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The token has expired.", code="token_expired") from None
    except jwt.InvalidTokenError as exc:
        raise Unauthorized(f"The token is not valid: {exc}.", code="invalid_token") from None
    try:
        user_id = UUID(str(claims["sub"]))
    except ValueError:
        raise Unauthorized("The token's sub must be a user UUID.", code="invalid_token") from None
    email = claims.get("email")
    role = claims.get("role")
    return Claims(
        user_id=user_id,
        email=email if isinstance(email, str) and email else None,
        role=role if isinstance(role, str) else None,
    )
