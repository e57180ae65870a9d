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


@pytest.mark.parametrize("claims", [
    {"exp": "{exp}"}, {"exp": 1e400}, {"iat": "{now}"}, {"nbf": "{now}"}, {"nbf": False},
])
def test_token_times_must_be_numbers(claims):
    """A time claim that is not a JSON number (a numeric string, a boolean, infinity) is invalid."""
    now = int(time.time())
    payload = {"sub": str(uuid.uuid4()), "exp": now + 600}
    payload.update({k: v.format(exp=now + 600, now=now) if isinstance(v, str) else v for k, v in claims.items()})
    with pytest.raises(Unauthorized) as caught:
        verify(SECRET, jwt.encode(payload, SECRET, algorithm="HS256"))
    assert caught.value.code == "invalid_token"


def test_token_times_have_thirty_seconds_of_leeway():
    """iat and nbf 29 s ahead and exp 29 s past are accepted; 31 s is refused."""
    now = time.time()
    assert verify(SECRET, mint(SECRET, uuid.uuid4(), now=now + 29)).user_id
    assert verify(SECRET, mint(SECRET, uuid.uuid4(), ttl=1, now=now - 30)).user_id
    with pytest.raises(Unauthorized):
        verify(SECRET, mint(SECRET, uuid.uuid4(), now=now + 31))


@pytest.mark.parametrize("email", ["ab", "x" * 321, "a\x00@b.se", "a\udc80@b.se", 7, ["a@b.se"], None, ""])
def test_an_email_users_cannot_hold_is_absent(email):
    """An email claim that is not storable text of 3 to 320 characters gives Claims.email None."""
    token = jwt.encode({"sub": str(uuid.uuid4()), "exp": time.time() + 60, "email": email}, SECRET, algorithm="HS256")
    assert verify(SECRET, token).email is None
