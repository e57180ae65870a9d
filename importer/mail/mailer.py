"""Sending a message: SMTP from SMTP_URL, or an .eml file in the outbox when SMTP_URL is unset."""

from __future__ import annotations

import asyncio
import logging
import os
import tempfile
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib
import attrs

from importer.settings import ConfigError, Settings

log = logging.getLogger(__name__)

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _flag(params: dict[str, list[str]], name: str) -> bool | None:
    if name not in params:
        return None
    value = params[name][-1].strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"SMTP_URL: {name} must be true or false, not {value!r}")


@attrs.frozen(kw_only=True)
class SmtpTarget:
    """SMTP_URL parsed: `smtp://[user:pass@]host[:port][?starttls=true|false&verify=false&ca_file=…&timeout=…]`.

    `smtp://` uses STARTTLS when the server offers it (`starttls=true` requires it, `starttls=false`
    never uses it); `smtps://` is TLS from the first byte. Certificates are verified unless
    `verify=false`; `ca_file` names a CA bundle to verify against (a private CA, a test server).
    """

    host: str
    port: int
    username: str | None = attrs.field(default=None, repr=False)
    password: str | None = attrs.field(default=None, repr=False)
    implicit_tls: bool = False
    starttls: bool | None = None
    verify: bool = True
    ca_file: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpTarget:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ConfigError(f"SMTP_URL must start with smtp:// or smtps://, not {parts.scheme!r}")
        if not parts.hostname:
            raise ConfigError("SMTP_URL names no host")
        params = parse_qs(parts.query)
        implicit_tls = parts.scheme == "smtps"
        starttls = _flag(params, "starttls")
        if implicit_tls and starttls:
            raise ConfigError("SMTP_URL: smtps:// is TLS already; starttls=true contradicts it")
        try:
            port = parts.port or (465 if implicit_tls else 25)
            timeout = float(params.get("timeout", ["30"])[-1])
        except ValueError as exc:
            raise ConfigError(f"SMTP_URL: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            implicit_tls=implicit_tls,
            starttls=False if implicit_tls else starttls,
            verify=_flag(params, "verify") is not False,
            ca_file=params["ca_file"][-1] if "ca_file" in params else None,
            timeout=timeout,
        )

    def describe(self) -> str:
        return f"{'smtps' if self.implicit_tls else 'smtp'}://{self.host}:{self.port}"


async def send_smtp(message: EmailMessage, target: SmtpTarget) -> None:
    """One SMTP conversation; aiosmtplib's errors (refusals, timeouts, TLS) reach the caller."""
    await aiosmtplib.send(
        message,
        hostname=target.host,
        port=target.port,
        username=target.username,
        password=target.password,
        use_tls=target.implicit_tls,
        start_tls=target.starttls,
        validate_certs=target.verify,
        cert_bundle=target.ca_file,
        timeout=target.timeout,
    )


def outbox_name(message: EmailMessage, tag: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"{stamp}-{tag}.eml"


def write_outbox(message: EmailMessage, outbox: Path, tag: str) -> Path:
    """The message as an .eml file; written to a temporary name and renamed, so a reader of
    the outbox never sees half a message."""
    outbox.mkdir(parents=True, exist_ok=True)
    path = outbox / outbox_name(message, tag)
    fd, tmp = tempfile.mkstemp(dir=outbox, prefix=".tmp-", suffix=".eml")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(bytes(message))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


async def deliver(message: EmailMessage, settings: Settings, *, tag: str) -> str:
    """Send by SMTP, or write to the outbox without SMTP_URL; says where the message went.

    `tag` names the message in the outbox file name (e.g. the job id and kind).
    """
    if settings.smtp_url:
        target = SmtpTarget.from_url(settings.smtp_url)
        await send_smtp(message, target)
        return target.describe()
    path = await asyncio.to_thread(write_outbox, message, settings.outbox_dir, tag)
    log.info("SMTP_URL is not set: e-mail written to %s", path.resolve(),
             extra={"outbox_file": str(path.resolve())})
    return str(path.resolve())
