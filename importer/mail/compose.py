"""The completion and failure e-mails of an import, in Swedish like the original (pure, no I/O)."""

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

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ImportEmailFacts:
        return cls(**{f.name: row[f.name] for f in attrs.fields(cls)})


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


def _activities(n: int) -> str:
    return f"{swedish_number(n)} {'aktivitet' if n == 1 else 'aktiviteter'}"


def subject(facts: ImportEmailFacts, kind: Kind) -> str:
    if kind == "success":
        return f"✅ Import klar – {_activities(facts.created_items)}"
    return f"❌ Importen misslyckades – {_header_text(facts.file_name)}"


def _counts(facts: ImportEmailFacts) -> list[tuple[str, int]]:
    return [
        ("Ringar", facts.created_rings),
        ("Aktivitetsgrupper", facts.created_groups),
        ("Etiketter", facts.created_labels),
        ("Sidor", facts.created_pages),
        ("Aktiviteter", facts.created_items),
        ("Avvisade rader", facts.rejected_rows),
    ]


def _wheel_phrase(facts: ImportEmailFacts) -> str:
    return f" till årshjulet ”{facts.wheel_title}”" if facts.wheel_title else ""


def _reason(facts: ImportEmailFacts) -> str:
    message = facts.error_message or "Okänt fel."
    return f"{message} ({facts.error_code})" if facts.error_code else message


def plain_text(facts: ImportEmailFacts, kind: Kind, app_url: str) -> str:
    lines = ["Hej!", ""]
    if kind == "success":
        lines += [f"Importen av ”{facts.file_name}”{_wheel_phrase(facts)} är klar.", "", "Skapat:"]
        lines += [f"  {label}: {swedish_number(n)}" for label, n in _counts(facts)]
        if facts.rejected_rows:
            lines += ["", "De avvisade raderna och skälen finns i importlistan på webbsidan."]
        lines += ["", f"Öppna årshjulet: {wheel_link(app_url, facts.wheel_id)}"]
    else:
        lines += [
            f"Importen av ”{facts.file_name}”{_wheel_phrase(facts)} misslyckades.",
            "",
            f"Orsak: {_reason(facts)}",
            "",
            f"Försök igen: {job_link(app_url, facts.wheel_id, facts.job_id)}",
        ]
    lines += ["", "Hälsningar,", "Årshjul", ""]
    return "\n".join(lines)


_BUTTON = (
    'style="display:inline-block;padding:12px 24px;background:#2563eb;color:#ffffff;'
    'text-decoration:none;border-radius:6px;font-weight:bold"'
)


def html_text(facts: ImportEmailFacts, kind: Kind, app_url: str) -> str:
    e = html.escape  # every text from the file (its name, an error about it) goes through this
    file_name = f"<strong>{e(facts.file_name)}</strong>"
    wheel = f" till årshjulet <strong>{e(facts.wheel_title)}</strong>" if facts.wheel_title else ""
    if kind == "success":
        rows = "".join(
            f'<tr><td style="padding:4px 16px 4px 0">{label}</td>'
            f'<td style="padding:4px 0;text-align:right"><strong>{swedish_number(n)}</strong></td></tr>'
            for label, n in _counts(facts)
        )
        body = (
            "<h1 style=\"font-size:20px\">✅ Import klar!</h1>"
            f"<p>Importen av {file_name}{wheel} är klar.</p>"
            f"<table style=\"border-collapse:collapse\">{rows}</table>"
            f'<p style="margin-top:24px"><a href="{e(wheel_link(app_url, facts.wheel_id))}" {_BUTTON}>'
            "Öppna Årshjul</a></p>"
        )
    else:
        body = (
            "<h1 style=\"font-size:20px\">❌ Importen misslyckades</h1>"
            f"<p>Importen av {file_name}{wheel} misslyckades.</p>"
            f"<p><strong>Orsak:</strong> {e(_reason(facts))}</p>"
            f'<p style="margin-top:24px"><a href="{e(job_link(app_url, facts.wheel_id, facts.job_id))}" {_BUTTON}>'
            "Försök igen</a></p>"
        )
    return (
        '<!DOCTYPE html><html lang="sv"><head><meta charset="utf-8"></head>'
        '<body style="font-family:Arial,Helvetica,sans-serif;color:#1f2937">'
        f"{body}<p>Hälsningar,<br>Årshjul</p></body></html>"
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
