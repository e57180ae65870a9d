"""Bytes to activities, pure: encodings, CSV, structured JSON, columns, dates, validation, planning."""
