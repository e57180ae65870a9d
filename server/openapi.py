"""The OpenAPI document of the API (served at /api/openapi.json); filled in with the views."""

from __future__ import annotations


def document() -> dict:
    return {"openapi": "3.0.3", "info": {"title": "Wheel importer", "version": "1"}, "paths": {}}
