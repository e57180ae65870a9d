"""Bearer-token authentication of /api/, and the user row of a token's subject."""

from __future__ import annotations

from uuid import UUID

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler

from importer.db import as_user
from importer.errors import Unauthorized
from importer.queries import q
from importer.tokens import Claims, verify
from server import keys

# Routes under /api/ that anyone may read.
PUBLIC = frozenset({"/api/openapi.json"})
# A process remembers this many (user, e-mail) pairs before it starts over; forgetting only
# costs one idempotent upsert.
KNOWN_USERS_LIMIT = 100_000


def bearer_token(request: web.Request) -> str:
    header = request.headers.get(hdrs.AUTHORIZATION)
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized.of("api.bad_authorization", code="invalid_token")
        return token.strip()
    # A browser's EventSource cannot send headers: the SSE streams take the token in the query.
    if request.path.endswith("/events") and request.query.get("access_token"):
        return request.query["access_token"]
    raise Unauthorized.of("api.missing_token", code="missing_token")


async def ensure_user(app: web.Application, claims: Claims) -> None:
    """The user row of a first-seen subject (and its e-mail when the token carries a new one)."""
    known = app[keys.KNOWN_USERS]
    key = (claims.user_id, claims.email)
    if key in known:
        return
    async with as_user(app[keys.POOL], claims.user_id) as conn:
        await conn.execute(q("user_ensure"), {"user_id": claims.user_id, "email": claims.email})
    if len(known) >= KNOWN_USERS_LIMIT:
        known.clear()
    known.add(key)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/") and request.path not in PUBLIC and request.method != hdrs.METH_OPTIONS:
        try:
            claims = verify(request.app[keys.SETTINGS].jwt_secret, bearer_token(request))
        except Unauthorized as exc:
            # importer/tokens.py says why in English for logs; a person reads the catalogue's text.
            if exc.key is None:
                exc.key = "api.token_expired" if exc.code == "token_expired" else "api.token_invalid"
            raise
        await ensure_user(request.app, claims)
        request[keys.CLAIMS] = claims
    return await handler(request)


def user_id(request: web.Request) -> UUID:
    """The authenticated user's UUID (the middleware has run for every /api/ route)."""
    return request[keys.CLAIMS].user_id


def is_operator(request: web.Request) -> bool:
    """Whether the request's token marks an operator (`role: service_role`)."""
    return request[keys.CLAIMS].is_operator
