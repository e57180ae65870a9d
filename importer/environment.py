"""Values of environment variables, parsed: an unset or blank variable gives the default, anything
else must parse, or start-up stops with a ConfigError naming the variable (importer/settings.py
reads the table of API.md with these)."""

from __future__ import annotations

from collections.abc import Mapping


class ConfigError(ValueError):
    """An environment variable holds a value the service cannot use; the message names it."""


def given(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name)
    return None if raw is None or raw.strip() == "" else raw


def integer(env: Mapping[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    """A whole number of at least `minimum`."""
    raw = given(env, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, not {value}")
    return value


def seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds, fractions allowed."""
    raw = given(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from None
    if not value > 0:  # also refuses nan
        raise ConfigError(f"{name} must be positive, not {value}")
    return value


def choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in choices:
        raise ConfigError(f"{name} must be {', '.join(choices[:-1])} or {choices[-1]}, not {value!r}")
    return value


def text(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name) or default


def switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    """`on` or `off` (also 1/0, true/false)."""
    raw = given(env, name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("on", "1", "true"):
        return True
    if value in ("off", "0", "false"):
        return False
    raise ConfigError(f"{name} must be on or off, not {raw!r}")
