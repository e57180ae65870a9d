"""Bearer tokens: HS256 only, sub and exp required."""

from __future__ import annotations

import time
import uuid

import jwt
import pytest

from importer.errors import Unauthorized
from importer.tokens import mint, verify

SECRET = "test-secret-that-is-long-enough-for-hs512-signatures-0123456789-abcdef"


def test_a_minted_token_verifies_to_its_claims():
    """mint → verify gives back the user, e-mail and role."""
    sub = uuid.uuid4()
    claims = verify(SECRET, mint(SECRET, sub, email="a@example.test", role="service_role"))
    assert claims.user_id == sub and claims.email == "a@example.test" and claims.is_operator


@pytest.mark.parametrize("token_factory,code", [
    (lambda: mint(SECRET, uuid.uuid4(), ttl=1, now=time.time() - 100), "token_expired"),
    (lambda: mint("other-secret-that-is-long-enough-for-hs512-signatures-0123456789", uuid.uuid4()), "invalid_token"),
    (lambda: jwt.encode({"sub": str(uuid.uuid4()), "exp": time.time() + 60}, None, algorithm="none"),
     "invalid_token"),
    (lambda: jwt.encode({"sub": str(uuid.uuid4()), "exp": time.time() + 60}, SECRET, algorithm="HS512"),
     "invalid_token"),
    (lambda: jwt.encode({"sub": str(uuid.uuid4())}, SECRET, algorithm="HS256"), "invalid_token"),
    (lambda: jwt.encode({"sub": "not-a-uuid", "exp": time.time() + 60}, SECRET, algorithm="HS256"),
     "invalid_token"),
    (lambda: "garbage", "invalid_token"),
])
def test_invalid_tokens_are_unauthorized(token_factory, code):
    """Expired, wrongly signed, alg none, other algorithms, missing exp, bad sub: all refused."""
    with pytest.raises(Unauthorized) as caught:
        verify(SECRET, token_factory())
    assert caught.value.code == code
