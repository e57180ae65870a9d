"""One vocabulary: the page, the API document, the CLI and the queue names use the model's enums."""

from __future__ import annotations

import re
from pathlib import Path

from importer.cli.main import build_parser
from importer.jobs import import_task, recovery, retention
from importer.jobs.app import queue_names
from importer.mail import email_task
from importer.model import ACTIVE, RETRYABLE, TERMINAL, ImportMode, JobStatus
from server.openapi import document

APP_JS = (Path(__file__).resolve().parents[2] / "server" / "static" / "app.js").read_text(encoding="utf-8")


def _js_set(name: str) -> set[str]:
    found = re.search(rf"const {name} = new Set\(\[([^\]]*)\]\);", APP_JS)
    assert found, f"app.js defines no Set {name}"
    return set(re.findall(r'"([a-z]+)"', found.group(1)))


def test_the_page_knows_every_status_and_its_sets():
    """app.js's ACTIVE and TERMINAL sets, its event types and its status texts follow JobStatus."""
    assert _js_set("ACTIVE") == {s.value for s in ACTIVE}
    assert _js_set("TERMINAL") == {s.value for s in TERMINAL}
    texts = re.search(r"const STATUS_TEXT = \{([^}]*)\};", APP_JS)
    assert texts, "app.js defines no STATUS_TEXT"
    assert set(re.findall(r"^\s*([a-z]+):", texts.group(1), re.MULTILINE)) == {s.value for s in JobStatus}
    events = re.search(r"const EVENT_TYPES = \[([^\]]*)\];", APP_JS)
    assert events and set(re.findall(r'"([a-z]+)"', events.group(1))) == {"progress"} | {s.value for s in TERMINAL}


def test_retryable_jobs_are_terminal():
    """Only an ended job can be retried, and a completed one cannot."""
    assert RETRYABLE < TERMINAL and JobStatus.COMPLETED not in RETRYABLE


def test_the_api_document_and_the_cli_offer_the_enums():
    """OpenAPI's status and mode enums and the CLI's choices are the model's values, in order."""
    schemas = document()["components"]["schemas"]
    job = schemas["Job"]["properties"]
    assert job["status"]["enum"] == [s.value for s in JobStatus]
    assert job["mode"]["enum"] == [m.value for m in ImportMode]
    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    status = next(a for a in commands["jobs"]._actions if a.dest == "status")
    mode = next(a for a in commands["submit"]._actions if a.dest == "mode")
    assert list(status.choices) == [s.value for s in JobStatus]
    assert list(mode.choices) == [m.value for m in ImportMode]


def test_queue_names_come_from_the_task_modules():
    """Each task runs on the queue its module exports, and those are all the service's queues."""
    assert import_task.run_import.queue == import_task.QUEUE
    assert email_task.send_import_email.queue == email_task.QUEUE
    assert recovery.recover_stalled_imports.queue == recovery.QUEUE
    assert retention.purge_old_imports_task.queue == recovery.QUEUE
    assert queue_names() == sorted({import_task.QUEUE, email_task.QUEUE, recovery.QUEUE})
