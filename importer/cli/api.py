"""Where the API is and who we are to it: base URL, bearer token, and its JSON errors."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import aiohttp
import attrs

DEFAULT_URL = "http://127.0.0.1:8080"


class ClientError(Exception):
    """The request could not be made or the server refused it; `str()` is for a person."""


class ApiError(ClientError):
    """An HTTP error answer of the API, with its contract error object."""

    def __init__(self, status: int, code: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def terminal_language(env: Mapping[str, str] | None = None) -> str:
    """The language the server's messages should come in (API.md, "Language"): the terminal's
    locale as POSIX orders it (LC_ALL, LC_MESSAGES, LANG), Swedish for `sv*`, else English, the
    language of the CLI's own words."""
    env = os.environ if env is None else env
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(name)
        if value:
            return "sv" if value.lower().startswith("sv") else "en"
    return "en"


@attrs.frozen(kw_only=True)
class Endpoint:
    url: str
    token: str
    #: The token came from $IMPORTER_TOKEN, so a hint for the user's shell may say
    #: `$IMPORTER_TOKEN`; otherwise (--token, or a token the command made itself, as `make demo`
    #: does) that variable may be unset or another user's, and a hint must carry the token itself.
    token_from_env: bool = False

    @classmethod
    def from_args(cls, url: str | None, token: str | None) -> Endpoint:
        from_env = not token
        token = token or os.environ.get("IMPORTER_TOKEN")
        if not token:
            raise ClientError("No token: pass --token or set IMPORTER_TOKEN (see `importer token --help`).")
        url = (url or os.environ.get("IMPORTER_URL") or DEFAULT_URL).rstrip("/")
        return cls(url=url, token=token, token_from_env=from_env)

    @property
    def token_for_shell(self) -> str:
        """The token as a hint printed for the user's shell should spell it."""
        return "$IMPORTER_TOKEN" if self.token_from_env else self.token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                "Accept-Language": terminal_language()}

    def absolute(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.url + path


async def raise_for_error(response: aiohttp.ClientResponse) -> None:
    """ApiError from a non-2xx answer, with the server's own message when it sent one."""
    if response.status < 400:
        return
    code, message = f"http_{response.status}", response.reason or "error"
    details: dict[str, Any] = {}
    try:
        body = await response.json(content_type=None)
        error = body.get("error") or {}
        code = error.get("code") or code
        message = error.get("message") or message
        details = error.get("details") or {}
    except (ValueError, AttributeError, aiohttp.ContentTypeError):
        pass
    raise ApiError(response.status, code, message, details)


async def request_json(session: aiohttp.ClientSession, endpoint: Endpoint, method: str, path: str,
                       **kwargs: Any) -> Any:
    async with session.request(method, endpoint.absolute(path), headers=endpoint.headers, **kwargs) as resp:
        await raise_for_error(resp)
        return await resp.json(content_type=None)
