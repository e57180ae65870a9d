"""Positional constructors build the same frozen values as the attrs __init__, or refuse."""

from __future__ import annotations

from datetime import date

import attrs
import pytest

from importer.model import Activity
from importer.read.construct import positional


def test_positional_equals_keyword_construction():
    """An Activity built positionally equals, hashes and stays frozen like a normal one."""
    args = (2, "Möte", date(2026, 1, 1), date(2026, 1, 2), "R", None, "L", "x")
    built = positional(Activity)(*args)
    normal = Activity(row_number=2, name="Möte", start=date(2026, 1, 1), end=date(2026, 1, 2),
                      ring="R", group=None, label="L", description="x")
    assert built == normal and hash(built) == hash(normal)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.name = "y"


def test_classes_with_validators_are_refused():
    """A class whose __init__ does more than assign cannot get a positional constructor."""

    @attrs.frozen
    class Checked:
        value: int = attrs.field(validator=attrs.validators.instance_of(int))

    with pytest.raises(TypeError):
        positional(Checked)
