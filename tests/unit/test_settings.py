"""Configuration from the environment: defaults of API.md, clear errors for bad values."""

from __future__ import annotations

import pytest

from importer.settings import DEV_JWT_SECRET, ConfigError, Settings


def test_defaults_are_those_of_the_contract():
    """An empty environment gives API.md's defaults and the development secret."""
    s = Settings.from_env({})
    assert s.database_url is None
    assert s.jwt_secret == DEV_JWT_SECRET and s.uses_dev_secret
    assert (s.email_threshold, s.max_upload_bytes, s.max_active_jobs, s.retention_days) == (
        200, 104_857_600, 3, 7)
    assert s.app_url == "http://localhost:8080"
    assert str(s.outbox_dir) == ".data/outbox"


def test_values_are_read_and_trimmed():
    """Set variables override the defaults; APP_URL loses a trailing slash."""
    s = Settings.from_env({"IMPORTER_MAX_ACTIVE_JOBS": "5", "APP_URL": "https://hjul.example/",
                           "IMPORTER_CORS_ORIGINS": "https://a.example, https://b.example",
                           "IMPORTER_JWT_SECRET": "s3cret"})
    assert s.max_active_jobs == 5
    assert s.app_url == "https://hjul.example"
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert not s.uses_dev_secret


@pytest.mark.parametrize("name,value", [("IMPORTER_MAX_ACTIVE_JOBS", "three"),
                                        ("IMPORTER_MAX_UPLOAD_BYTES", "0"),
                                        ("IMPORTER_LOG_FORMAT", "xml")])
def test_bad_values_are_refused_with_the_variable_named(name, value):
    """A value the service cannot use stops start-up with a message naming the variable."""
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})
