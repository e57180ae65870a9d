"""Who is signed in, in a real headless Chromium: the header names the account (e-mail, or the
user id when the token has none) beside "Logga ut"; a sign-in link of ANOTHER user asks in the
page before it switches accounts ("no" keeps the current one and ignores the link's wheel), one
of the same user replaces the token silently, and the token leaves the address bar either way.
Screenshots of each state at 1280 and 375 px land in tests/artifacts/."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import expect

from importer import tokens
from tests.e2e.test_browser import PHONE, browser_page, shot
from tests.live_server import SECRET, LiveServer

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DESKTOP = 1280


@pytest.fixture
async def page(browser) -> AsyncIterator:
    """A fresh page at phone width in a Swedish browser; a window.confirm/alert fails the test."""
    pg = await browser_page(browser, "sv-SE")
    try:
        yield pg
    finally:
        await pg.context.close()


async def both_widths(page, name: str) -> None:
    """Screenshots `name`-1280 and `name`-375 of the page as it is now, ending at phone width."""
    await page.set_viewport_size({"width": DESKTOP, "height": 800})
    await shot(page, f"{name}-{DESKTOP}")
    await page.set_viewport_size({"width": PHONE, "height": 900})
    await shot(page, f"{name}-{PHONE}")


async def signed_in_as(page, name: str) -> None:
    await page.wait_for_selector("#app:not([hidden])")
    await expect(page.locator("#account")).to_be_visible()
    await expect(page.locator("#account")).to_contain_text("Inloggad som")
    await expect(page.locator("#account-name")).to_have_text(name)


async def stored_token(page) -> str | None:
    return await page.evaluate("() => localStorage.getItem('importer.token')")


async def test_the_header_names_the_account_and_signs_out(server: LiveServer, page) -> None:
    """The header shows the token's e-mail, or its user id without one, and "Logga ut" signs out."""
    user = uuid.uuid4()
    token = server.token(user, email="eva.lind@redovisningsbyran.example")
    wheel = server.wheel(token, "Evas plan")
    await page.goto(f"{server.url}/#token={token}&wheel={wheel}")
    await signed_in_as(page, "eva.lind@redovisningsbyran.example")
    assert "#" not in page.url and "token" not in page.url, "the token must leave the address bar"
    await both_widths(page, "account-header")

    anonymous = uuid.uuid4()
    await page.click("#logout")
    await page.wait_for_selector("#signin:not([hidden])")
    await expect(page.locator("#account")).to_be_hidden()
    await page.goto(f"{server.url}/#token={server.token(anonymous)}")
    await signed_in_as(page, str(anonymous))
    await both_widths(page, "account-header-no-email")
    assert not page.errors, page.errors


async def test_a_link_of_another_user_asks_before_switching(server: LiveServer, page) -> None:
    """Signed in as Eva, a link with Bo's token asks in the page (naming both); "Behåll mitt konto"
    and Escape keep Eva (her token, her wheels, the link's wheel ignored), "Byt konto" signs in as Bo;
    the token leaves the address bar while the question is asked."""
    eva, bo = uuid.uuid4(), uuid.uuid4()
    eva_token = server.token(eva, email="eva@example.se")
    bo_token = server.token(bo, email="bo@example.se")
    server.wheel(eva_token, "Evas hjul")
    bo_wheel = server.wheel(bo_token, "Bos hjul")
    await page.goto(f"{server.url}/#token={eva_token}")
    await signed_in_as(page, "eva@example.se")

    # A fresh load of Bo's link (as from an e-mail or a chat): the question comes first.
    dialog = page.locator("#confirm-switch")
    await page.goto("about:blank")
    await page.goto(f"{server.url}/#token={bo_token}&wheel={bo_wheel}")
    await expect(dialog).to_be_visible()
    assert "token" not in page.url, "the token must leave the address bar before the question"
    await expect(page.locator("#switch-current")).to_have_text("eva@example.se")
    await expect(page.locator("#switch-other")).to_have_text("bo@example.se")
    await expect(dialog).to_contain_text("Byta konto?")
    await expect(page.locator("#account-name")).to_have_text("eva@example.se")
    await both_widths(page, "account-switch-question")

    await page.click("#switch-no")
    await expect(dialog).to_be_hidden()
    await signed_in_as(page, "eva@example.se")
    assert await stored_token(page) == eva_token
    await expect(page.locator("#wheel-select option")).to_have_text(["Evas hjul (2025)"])

    # The same link opened again in the open page (a hash change), answered with Escape: still Eva.
    await page.goto(f"{server.url}/#token={bo_token}&wheel={bo_wheel}")
    await expect(dialog).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await signed_in_as(page, "eva@example.se")
    assert await stored_token(page) == eva_token

    await page.goto(f"{server.url}/#token={bo_token}&wheel={bo_wheel}")
    await page.click("#switch-yes")
    await signed_in_as(page, "bo@example.se")
    assert await stored_token(page) == bo_token
    await expect(page.locator("#wheel-select option")).to_have_text(["Bos hjul (2025)"])
    assert await page.input_value("#wheel-select") == bo_wheel
    await both_widths(page, "account-switched")
    assert not page.errors, page.errors


async def test_a_fresh_token_of_the_same_user_replaces_silently(server: LiveServer, page) -> None:
    """A link with a new token of the user already signed in asks nothing and replaces the token;
    one with an unreadable token asks, naming no account."""
    user = uuid.uuid4()
    old = server.token(user, email="samma@example.se")
    await page.goto(f"{server.url}/#token={old}")
    await signed_in_as(page, "samma@example.se")
    fresh = tokens.mint(SECRET, user, email="samma@example.se", ttl=7200)
    assert fresh != old
    await page.goto(f"{server.url}/#token={fresh}")
    await expect(page.locator("#confirm-switch")).to_be_hidden()
    await page.wait_for_function("token => localStorage.getItem('importer.token') === token", arg=fresh)
    await signed_in_as(page, "samma@example.se")
    assert "token" not in page.url

    # A token that cannot be read is no account to switch to silently either: it is asked about.
    await page.goto(f"{server.url}/#token=not-a-jwt")
    await expect(page.locator("#confirm-switch")).to_be_visible()
    await expect(page.locator("#switch-other")).to_have_text("ett okänt konto")
    await page.click("#switch-no")
    await signed_in_as(page, "samma@example.se")
    assert await stored_token(page) == fresh
    assert not page.errors, page.errors


async def test_the_question_in_an_english_browser(server: LiveServer, browser) -> None:
    """In an en-US browser the header and the question are in English."""
    page = await browser_page(browser, "en-US")
    try:
        eva, bo = server.token(email="eva@example.com"), server.token()
        await page.goto(f"{server.url}/#token={eva}")
        await page.wait_for_selector("#app:not([hidden])")
        await expect(page.locator("#account")).to_contain_text("Signed in as")
        await expect(page.locator("#logout")).to_have_text("Sign out")
        await page.goto(f"{server.url}/#token={bo}")
        dialog = page.locator("#confirm-switch")
        await expect(dialog).to_be_visible()
        await expect(dialog).to_contain_text("Switch accounts?")
        await expect(page.locator("#switch-no")).to_have_text("Keep my account")
        await expect(page.locator("#switch-yes")).to_have_text("Switch account")
        await both_widths(page, "account-switch-question-en")
        await page.click("#switch-no")
        await expect(page.locator("#account-name")).to_have_text("eva@example.com")
        assert not page.errors, page.errors
    finally:
        await page.context.close()
