"""Configuration from the environment (the table in API.md), parsed once at the edge."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

import attrs

log = logging.getLogger(__name__)

DEV_JWT_SECRET = "development-secret-do-not-use-in-production"


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use."""


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


@attrs.frozen(kw_only=True)
class Settings:
    database_url: str | None
    jwt_secret: str
    smtp_url: str | None
    email_threshold: int
    max_upload_bytes: int
    max_active_jobs: int
    retention_days: int
    app_url: str
    data_dir: Path
    cors_origins: tuple[str, ...]
    log_format: str
    # The completion e-mail (importer/email_task.py); defaults so that other callers need not care.
    email_from: str = "Årshjul <noreply@localhost>"
    email_retry_wait: int = 30
    email_failure_min_seconds: int = 5

    @property
    def uses_dev_secret(self) -> bool:
        return self.jwt_secret == DEV_JWT_SECRET

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        origins = tuple(o.strip() for o in env.get("IMPORTER_CORS_ORIGINS", "").split(",") if o.strip())
        log_format = env.get("IMPORTER_LOG_FORMAT", "auto")
        if log_format not in ("auto", "json", "text"):
            raise ConfigError(f"IMPORTER_LOG_FORMAT must be auto, json or text, not {log_format!r}")
        return cls(
            database_url=env.get("DATABASE_URL") or None,
            jwt_secret=env.get("IMPORTER_JWT_SECRET") or DEV_JWT_SECRET,
            smtp_url=env.get("SMTP_URL") or None,
            email_threshold=_int(env, "IMPORTER_EMAIL_THRESHOLD", 200),
            max_upload_bytes=_int(env, "IMPORTER_MAX_UPLOAD_BYTES", 104_857_600, minimum=1),
            max_active_jobs=_int(env, "IMPORTER_MAX_ACTIVE_JOBS", 3, minimum=1),
            retention_days=_int(env, "IMPORTER_RETENTION_DAYS", 7, minimum=1),
            app_url=(env.get("APP_URL") or "http://localhost:8080").rstrip("/"),
            data_dir=Path(env.get("IMPORTER_DATA_DIR") or ".data"),
            cors_origins=origins,
            log_format=log_format,
            email_from=env.get("IMPORTER_EMAIL_FROM") or "Årshjul <noreply@localhost>",
            email_retry_wait=_int(env, "IMPORTER_EMAIL_RETRY_WAIT", 30),
            email_failure_min_seconds=_int(env, "IMPORTER_EMAIL_FAILURE_MIN_SECONDS", 5),
        )

    def warn_if_insecure(self) -> None:
        if self.uses_dev_secret:
            log.warning(
                "IMPORTER_JWT_SECRET is not set: using the fixed DEVELOPMENT secret. "
                "Anyone can sign tokens for this service. Set IMPORTER_JWT_SECRET in production."
            )
