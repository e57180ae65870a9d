"""The web page's routes: index.html under a strict CSP, static files cached by content version."""

from __future__ import annotations

import re

from aiohttp import web

from server.views import page


async def client_for(aiohttp_client):
    app = web.Application()
    page.add_routes(app.router)
    return await aiohttp_client(app)


async def test_index_has_a_strict_csp_and_versioned_assets(aiohttp_client) -> None:
    """`GET /` allows only the page's own script and style, and names each asset with its content hash."""
    client = await client_for(aiohttp_client)
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    html = await resp.text()
    assert "{{" not in html
    assert re.search(r'<script type="module" src="/static/app\.js\?v=[0-9a-f]{12}"></script>', html)
    assert ">Importera<" in html
    assert "<script>" not in html and " style=" not in html  # nothing inline for the CSP to refuse


async def test_static_files_are_cached_for_good_only_at_their_current_version(aiohttp_client) -> None:
    """The current version's URL is immutable; another or no version revalidates; unknown files are 404."""
    client = await client_for(aiohttp_client)
    html = await (await client.get("/")).text()
    src = re.search(r'src="(/static/app\.js\?v=[0-9a-f]+)"', html).group(1)
    current = await client.get(src)
    assert current.status == 200
    assert current.headers["Content-Type"].startswith("text/javascript")
    assert "immutable" in current.headers["Cache-Control"]
    assert "ETag" in current.headers or "Last-Modified" in current.headers
    stale = await client.get("/static/app.js?v=000000000000")
    assert stale.status == 200 and stale.headers["Cache-Control"] == "no-cache"
    css = await client.get("/static/style.css")
    assert css.headers["Content-Type"].startswith("text/css")
    for name in ("index.html", "..%2Fviews%2Fpage.py", "missing.js"):
        assert (await client.get(f"/static/{name}")).status == 404


def test_app_js_never_puts_data_in_as_markup() -> None:
    """The page's script builds the DOM from text only: no innerHTML, outerHTML, insertAdjacentHTML or eval."""
    source = (page.STATIC_DIR / "app.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
