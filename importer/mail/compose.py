"""The completion and failure e-mails of an import (pure, no I/O), in the job's language
(import_jobs.language: the request that started it; Swedish by default), from the catalogue."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Literal
from uuid import UUID

import attrs

from importer.messages import SWEDISH, render_in

Kind = Literal["success", "failure"]

# Header values may not hold line breaks (header injection) or other control characters.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@attrs.frozen(kw_only=True)
class ImportEmailFacts:
    """What a message says about one ended import job (row of the `email_job_facts` query)."""

    job_id: UUID
    wheel_id: UUID
    wheel_title: str | None
    file_name: str
    status: str
    notify: bool
    rejected_rows: int
    created_rings: int
    created_groups: int
    created_labels: int
    created_pages: int
    created_items: int
    error_code: str | None
    error_message: str | None
    run_seconds: float | None
    recipient: str | None
    #: The language of the request that started the job (API.md, "Language").
    language: str = SWEDISH

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ImportEmailFacts:
        return cls(**{f.name: row[f.name] for f in attrs.fields(cls) if f.name in row})


def wheel_link(app_url: str, wheel_id: UUID) -> str:
    """The web page with this wheel chosen (API.md: `/#token=…&wheel=…`, here without a token)."""
    return f"{app_url}/#wheel={wheel_id}"


def job_link(app_url: str, wheel_id: UUID, job_id: UUID) -> str:
    """The web page with the wheel chosen and this job shown, where its retry button is."""
    return f"{app_url}/#wheel={wheel_id}&job={job_id}"


def swedish_number(n: int) -> str:
    """1234567 → "1 234 567", the Swedish grouping (a space every three digits)."""
    return f"{n:,}".replace(",", " ")


def _header_text(text: str, limit: int = 120) -> str:
    text = _CONTROL.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def number(n: int, language: str) -> str:
    """A count as a person of `language` reads it: Swedish groups digits with a space."""
    return swedish_number(n) if language == SWEDISH else f"{n:,}"


def _activities(n: int, language: str) -> str:
    return render_in(language, "mail.activity_one" if n == 1 else "mail.activity_many", count=number(n, language))


def subject(facts: ImportEmailFacts, kind: Kind) -> str:
    language = facts.language
    if kind == "success":
        return render_in(language, "mail.subject_success", activities=_activities(facts.created_items, language))
    return render_in(language, "mail.subject_failure", file=_header_text(facts.file_name))


def _counts(facts: ImportEmailFacts) -> list[tuple[str, int]]:
    language = facts.language
    return [(render_in(language, key), n) for key, n in (
        ("mail.count_rings", facts.created_rings), ("mail.count_groups", facts.created_groups),
        ("mail.count_labels", facts.created_labels), ("mail.count_pages", facts.created_pages),
        ("mail.count_items", facts.created_items), ("mail.count_rejected", facts.rejected_rows))]


def _wheel_phrase(facts: ImportEmailFacts, title: str | None = None) -> str:
    """" till årshjulet ”X”" (with `title` as given: the HTML part escapes and wraps it)."""
    if not facts.wheel_title:
        return ""
    shown = title if title is not None else render_in(facts.language, "mail.quoted", text=facts.wheel_title)
    return render_in(facts.language, "mail.to_wheel", title=shown)


def _reason(facts: ImportEmailFacts) -> str:
    message = facts.error_message or render_in(facts.language, "mail.unknown_error")
    return f"{message} ({facts.error_code})" if facts.error_code else message


def plain_text(facts: ImportEmailFacts, kind: Kind, app_url: str) -> str:
    language = facts.language

    def t(key: str, **params: object) -> str:
        return render_in(language, key, **params)

    file = t("mail.quoted", text=facts.file_name)
    lines = [t("mail.hello"), ""]
    if kind == "success":
        lines += [t("mail.done", file=file, wheel=_wheel_phrase(facts)), "", t("mail.created")]
        lines += [f"  {label}: {number(n, language)}" for label, n in _counts(facts)]
        if facts.rejected_rows:
            lines += ["", t("mail.rejected_hint")]
        lines += ["", t("mail.open_wheel", link=wheel_link(app_url, facts.wheel_id))]
    else:
        lines += [
            t("mail.failed", file=file, wheel=_wheel_phrase(facts)),
            "",
            t("mail.reason", reason=_reason(facts)),
            "",
            t("mail.try_again", link=job_link(app_url, facts.wheel_id, facts.job_id)),
        ]
    lines += ["", t("mail.regards"), t("mail.signature"), ""]
    return "\n".join(lines)


_BUTTON = (
    'style="display:inline-block;padding:12px 24px;background:#2563eb;color:#ffffff;'
    'text-decoration:none;border-radius:6px;font-weight:bold"'
)


def html_text(facts: ImportEmailFacts, kind: Kind, app_url: str) -> str:
    language = facts.language
    e = html.escape  # every text from the file (its name, an error about it) goes through this

    def t(key: str, **params: str) -> str:
        # The template is ours; what fills it is escaped here, or is markup we made of escaped text.
        return render_in(language, key, **params)

    file_name = f"<strong>{e(facts.file_name)}</strong>"
    wheel = _wheel_phrase(facts, f"<strong>{e(facts.wheel_title)}</strong>") if facts.wheel_title else ""
    if kind == "success":
        rows = "".join(
            f'<tr><td style="padding:4px 16px 4px 0">{e(label)}</td>'
            f'<td style="padding:4px 0;text-align:right"><strong>{number(n, language)}</strong></td></tr>'
            for label, n in _counts(facts)
        )
        body = (
            f"<h1 style=\"font-size:20px\">{e(t('mail.html_done'))}</h1>"
            f"<p>{t('mail.done', file=file_name, wheel=wheel)}</p>"
            f"<table style=\"border-collapse:collapse\">{rows}</table>"
            f'<p style="margin-top:24px"><a href="{e(wheel_link(app_url, facts.wheel_id))}" {_BUTTON}>'
            f"{e(t('mail.html_open'))}</a></p>"
        )
    else:
        body = (
            f"<h1 style=\"font-size:20px\">{e(t('mail.html_failed'))}</h1>"
            f"<p>{t('mail.failed', file=file_name, wheel=wheel)}</p>"
            f"<p><strong>{e(t('mail.html_reason'))}</strong> {e(_reason(facts))}</p>"
            f'<p style="margin-top:24px"><a href="{e(job_link(app_url, facts.wheel_id, facts.job_id))}" {_BUTTON}>'
            f"{e(t('mail.html_retry'))}</a></p>"
        )
    return (
        f'<!DOCTYPE html><html lang="{e(language)}"><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2937">'
        f"{body}<p>{e(t('mail.regards'))}<br>{e(t('mail.signature'))}</p></body></html>"
    )


def _sender(sender: str) -> Address:
    display, addr = parseaddr(sender)
    if "@" not in addr:
        raise ValueError(f"IMPORTER_EMAIL_FROM must hold an e-mail address, not {sender!r}")
    username, domain = addr.rsplit("@", 1)
    return Address(display_name=display, username=username, domain=domain)


def compose(facts: ImportEmailFacts, kind: Kind, *, recipient: str, app_url: str, sender: str,
            now: datetime | None = None) -> EmailMessage:
    """The message, multipart/alternative with a plain-text and an HTML part.

    The Message-ID depends only on the job and the kind, so that a message sent twice (a crash
    between the server's acceptance and our record of it) is recognisably one message.
    """
    from_ = _sender(sender)
    message = EmailMessage()
    message["Subject"] = subject(facts, kind)
    message["From"] = from_
    message["To"] = recipient
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = f"<{facts.job_id.hex}.{kind}@{from_.domain}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(plain_text(facts, kind, app_url))
    message.add_alternative(html_text(facts, kind, app_url), subtype="html")
    return message
