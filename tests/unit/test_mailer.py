"""SMTP_URL parsing and the outbox's atomic .eml files."""

from __future__ import annotations

from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

import pytest

from importer.mail.mailer import SmtpTarget, write_outbox
from importer.settings import ConfigError


def test_plain_smtp_url_uses_starttls_when_offered_and_no_login():
    """`smtp://host:port` leaves STARTTLS to the server's offer and sends no credentials."""
    t = SmtpTarget.from_url("smtp://mail.test:2525")
    assert (t.host, t.port, t.implicit_tls, t.starttls, t.username, t.verify) == (
        "mail.test", 2525, False, None, None, True)


def test_smtps_url_with_login_and_options():
    """`smtps://` is implicit TLS on 465 by default; credentials are URL-decoded."""
    t = SmtpTarget.from_url("smtps://u%40x:p%3Aw@mail.test?verify=false&timeout=5")
    assert (t.port, t.implicit_tls, t.starttls, t.username, t.password, t.verify, t.timeout) == (
        465, True, False, "u@x", "p:w", False, 5.0)
    assert "p:w" not in repr(t)


@pytest.mark.parametrize("url", ["http://mail.test", "smtp://", "smtp://h?starttls=maybe",
                                 "smtps://h?starttls=true", "smtp://h:notaport"])
def test_unusable_urls_are_configuration_errors(url):
    """A wrong scheme, no host, a bad flag or port is reported as a configuration error."""
    with pytest.raises(ConfigError):
        SmtpTarget.from_url(url)


def test_outbox_file_is_complete_and_alone(tmp_path):
    """The outbox holds exactly the finished .eml, no temporary file, and it parses back."""
    message = EmailMessage()
    message["Subject"] = "✅ Import klar – 250 aktiviteter"
    message["To"] = "a@b.test"
    message.set_content("Hej!")
    path = write_outbox(message, tmp_path / "outbox", "job-success")
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == [path.name]
    assert path.name.endswith("-job-success.eml")
    parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert parsed["Subject"] == "✅ Import klar – 250 aktiviteter" and parsed.get_content() == "Hej!\n"
