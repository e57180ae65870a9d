"""The web page: `GET /` (index.html under a strict CSP) and its static files under `/static/`."""

from __future__ import annotations

import hashlib
from pathlib import Path

from aiohttp import web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Only these files are served; anything else under /static/ is a 404 without touching the disk.
STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    # Imported by app.js as "./wheel.js": served without a version in its URL, so it revalidates.
    "wheel.js": "text/javascript; charset=utf-8",
    # Imported by app.js as "./account.js", likewise.
    "account.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

# The page talks only to its own origin and runs only its own script: no inline script or
# style, so data that slipped into the DOM could not execute even if it were markup.
CSP = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
))

SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# A URL carrying the file's current hash can be cached for good; any other URL revalidates.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def _version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def _index_html() -> str:
    """index.html with each `{{name}}` placeholder replaced by that static file's versioned URL.

    Read on each request: the file is small, and an edited file is then served at once.
    """
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    for name in STATIC_FILES:
        html = html.replace("{{" + name + "}}", f"/static/{name}?v={_version(name)}")
    return html


async def index(request: web.Request) -> web.Response:
    """GET /: 200 the web page (text/html) under a strict CSP, never cached without revalidation."""
    return web.Response(
        text=_index_html(),
        content_type="text/html",
        charset="utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"},
    )


async def static(request: web.Request) -> web.StreamResponse:
    """GET /static/{name}: 200 one of STATIC_FILES, cached for good when `?v=` is its current hash.

    404 `not_found` for any other name.
    """
    name = request.match_info["name"]
    if name not in STATIC_FILES:
        raise web.HTTPNotFound(text="not found")
    path = STATIC_DIR / name
    current = request.query.get("v") == _version(name)
    return web.FileResponse(path, headers={
        "Cache-Control": IMMUTABLE if current else REVALIDATE,
        "X-Content-Type-Options": "nosniff",
        "Content-Type": STATIC_FILES[name],
    })


def add_routes(router: web.UrlDispatcher) -> None:
    """The page's routes; called from server/routes.py."""
    router.add_get("/", index, name="page")
    router.add_get("/static/{name}", static, name="static")

