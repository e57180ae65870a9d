"""Positional constructors for frozen attrs value types on the hot path (one per row)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import attrs

T = TypeVar("T", bound=attrs.AttrsInstance)


def positional(cls: type[T]) -> Callable[..., T]:
    """A function building `cls` from every field in declaration order, without keywords.

    The generated attrs __init__ of a frozen slotted class parses keywords and looks each
    attribute up by name; setting the slots through their descriptors makes an instance in
    less than half the time, which the 200,000 rows/s budget needs. Only for classes without
    validators, converters or post-init hooks: checked here, so a later change to the model
    fails at import instead of building half-initialised objects.
    """
    fields = attrs.fields(cls)
    if any(f.validator or f.converter for f in fields) or hasattr(cls, "__attrs_post_init__"):
        raise TypeError(f"{cls.__name__} needs its own __init__")
    # Generated like attrs' own __init__: an unrolled body is twice as fast as a loop.
    names = [f.name for f in fields]
    namespace: dict[str, Any] = {"new": object.__new__, "cls": cls}
    lines = [f"def build({', '.join(names)}):", "    instance = new(cls)"]
    for i, name in enumerate(names):
        namespace[f"set{i}"] = cls.__dict__[name].__set__
        lines.append(f"    set{i}(instance, {name})")
    lines.append("    return instance")
    exec("\n".join(lines), namespace)  # field names come from attrs, never from input
    build: Callable[..., T] = namespace["build"]
    build.__doc__ = f"{cls.__name__}({', '.join(names)})"
    return build
