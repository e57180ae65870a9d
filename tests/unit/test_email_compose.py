"""The e-mail's words, links and headers, and the rules of who gets one (pure, no database)."""

from __future__ import annotations

import uuid

import pytest

from importer.mail.compose import ImportEmailFacts, compose, job_link, subject, swedish_number, wheel_link
from importer.mail.email_task import decide
from importer.settings import Settings

JOB = uuid.UUID("11111111-2222-3333-4444-555555555555")
WHEEL = uuid.UUID("66666666-7777-8888-9999-000000000000")
SETTINGS = Settings.from_env({})


def facts(**overrides) -> ImportEmailFacts:
    values = dict(job_id=JOB, wheel_id=WHEEL, wheel_title="Plan 2026", file_name="plan.csv",
                  status="completed", notify=True, rejected_rows=0, created_rings=2, created_groups=5,
                  created_labels=1, created_pages=1, created_items=1234, error_code=None,
                  error_message=None, run_seconds=30.0, recipient="anna@example.test")
    return ImportEmailFacts(**(values | overrides))


@pytest.mark.parametrize(("n", "text"), [(0, "0"), (999, "999"), (1234, "1 234"), (1234567, "1 234 567")])
def test_numbers_are_grouped_the_swedish_way(n, text):
    """Thousands are separated by a space, as Swedish writes them."""
    assert swedish_number(n) == text


def test_subjects_name_the_count_or_the_file():
    """Success names the number of activities; failure names the file, without line breaks."""
    assert subject(facts(), "success") == "✅ Import klar – 1 234 aktiviteter"
    assert subject(facts(created_items=1), "success") == "✅ Import klar – 1 aktivitet"
    assert subject(facts(file_name="a\r\nBcc: x@evil.test.csv"), "failure") == (
        "❌ Importen misslyckades – a Bcc: x@evil.test.csv")


def test_links_open_the_web_page_with_the_wheel_and_the_job_chosen():
    """The links are the web page's fragment form, so they work without a token in the mail."""
    assert wheel_link("https://h.test", WHEEL) == f"https://h.test/#wheel={WHEEL}"
    assert job_link("https://h.test", WHEEL, JOB) == f"https://h.test/#wheel={WHEEL}&job={JOB}"


def test_failure_message_escapes_the_reason_and_the_file_name_in_html():
    """Text from the file reaches the HTML part only escaped; the plain part keeps it as it was."""
    message = compose(facts(status="failed", file_name="<b>x</b>.csv", error_code="no_valid_rows",
                            error_message='Rad 2: "<script>alert(1)</script>"'),
                      "failure", recipient="anna@example.test", app_url="https://h.test",
                      sender="Årshjul <noreply@h.test>")
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;.csv" in html
    assert '<script>alert(1)</script>' in text and "(no_valid_rows)" in text
    assert message["Message-ID"] == f"<{JOB.hex}.failure@h.test>"


def test_a_sender_without_an_address_is_refused():
    """IMPORTER_EMAIL_FROM must hold an address; a bare name is a configuration error."""
    with pytest.raises(ValueError, match="IMPORTER_EMAIL_FROM"):
        compose(facts(), "success", recipient="a@b.test", app_url="https://h.test", sender="Årshjul")


@pytest.mark.parametrize(("overrides", "kind"), [
    ({}, "success"),
    ({"created_items": 200}, "success"),
    ({"created_items": 199}, None),
    ({"notify": False}, None),
    ({"recipient": None}, None),
    ({"status": "cancelled"}, None),
    ({"status": "failed", "run_seconds": 5.0}, "failure"),
    ({"status": "failed", "run_seconds": 4.9}, None),
    ({"status": "failed", "run_seconds": None}, None),
    ({"status": "failed", "notify": False}, None),
])
def test_who_gets_an_email(overrides, kind):
    """Success from the threshold on, failure after five seconds, nothing otherwise."""
    assert decide(facts(**overrides), SETTINGS).kind == kind


def test_a_job_started_in_english_mails_in_english():
    """The e-mail follows the job's language: English words, English digit grouping and quotes,
    html lang="en"; the file's name is still escaped in the HTML part."""
    english = facts(language="en", file_name="<b>plan</b>.csv", rejected_rows=3)
    assert subject(english, "success") == "✅ Import complete – 1,234 activities"
    message = compose(english, "success", recipient="a@b.test", app_url="https://h.test", sender="Årshjul <n@h.test>")
    plain = message.get_body(("plain",)).get_content()
    assert "The import of “<b>plan</b>.csv” into the wheel “Plan 2026” is complete." in plain
    assert "  Activities: 1,234" in plain and "Open the wheel: https://h.test/#wheel=" in plain
    assert "Hej" not in plain and "Rejected rows: 3" in plain
    page = message.get_body(("html",)).get_content()
    assert '<html lang="en">' in page and "&lt;b&gt;plan&lt;/b&gt;.csv" in page and "<b>plan</b>" not in page
    failure = compose(facts(language="en", status="failed", error_code="no_valid_rows", error_message="No row."),
                      "failure", recipient="a@b.test", app_url="https://h.test", sender="Årshjul <n@h.test>")
    assert failure["Subject"] == "❌ Import failed – plan.csv"
    assert "Reason: No row. (no_valid_rows)" in failure.get_body(("plain",)).get_content()


@pytest.mark.parametrize("recipient", ["a@x.se, b@y.se", "a@x.se;b@y.se", "Anna <a@x.se>", "a@[127.0.0.1]", "nobody"])
def test_a_recipient_that_is_not_one_address_is_skipped_with_a_reason(recipient):
    """A due e-mail whose recipient is not exactly one valid address goes to nobody, and says why."""
    decision = decide(facts(recipient=recipient), SETTINGS)
    assert decision.skipped and decision.recipient is None
    assert decision.why.startswith("not one valid e-mail address")


def test_one_valid_address_is_the_recipient():
    """One valid address is the decision's recipient."""
    decision = decide(facts(recipient="anna@example.com"), SETTINGS)
    assert (decision.kind, decision.recipient, decision.skipped) == ("success", "anna@example.com", False)
