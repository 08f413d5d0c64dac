"""Which mode a test's cassette runs in under the pytest plugin, vcrpy's record modes included (the
order of precedence and what each alias means are in `httpx_cassette.pytest_plugin`).

The aliases are resolved per test, against the test's own cassette directory (``once``) and the start
of the run (``rewrite``).
"""

from __future__ import annotations

import os
from pathlib import Path

from ._cassette import ENV_MODE, MODES
from ._errors import CassetteError

__all__ = ["ALIASES", "RECORDING", "alias_note", "checked", "default_mode", "miss_source", "resolve"]

# alias: (the mode it stands for, what it does)
ALIASES: dict[str, tuple[str, str]] = {
    "none": ("replay", "never record; a request with no recording fails"),
    "once": ("replay or record", "replay a cassette directory that has recordings, record an empty one"),
    "new_episodes": ("record-missing", "replay what is recorded, record the rest"),
    "all": ("record", "record every request again"),
    "rewrite": ("record", "record into an emptied cassette directory"),
}
RECORDING = ("record", "record-missing")  # the modes that write to the cassette


def checked(value: str, source: str) -> str:
    """``value`` if it names a mode or an alias; else a `CassetteError` naming ``source``."""
    if value in MODES or value in ALIASES:
        return value
    known = ", ".join([*MODES, *ALIASES])
    raise CassetteError(f"unknown cassette mode {value!r} in {source}: use one of {known}")


def default_mode(cli_mode: str | None, ini_mode: str | None) -> tuple[str, str]:
    """The mode of tests whose marker has no ``mode=``, and where it came from."""
    if cli_mode:
        return cli_mode, "--cassette-mode"
    env = os.environ.get(ENV_MODE)
    if env:
        return checked(env, f"${ENV_MODE}"), f"${ENV_MODE}"
    if ini_mode:
        return ini_mode, "cassette_mode ini option"
    return "replay", "default"


def alias_note(mode: str) -> str:
    """`` (record: record every request again)`` for an alias, else nothing: for the report header."""
    return f" ({ALIASES[mode][0]}: {ALIASES[mode][1]})" if mode in ALIASES else ""


def resolve(spec: str, path: Path, started: float) -> tuple[str, float | None]:
    """The mode ``spec`` (a mode or alias) stands for at cassette ``path``, and its ``fresh_since``.

    ``rewrite`` removes the recordings older than ``started``, the start of the run, so tests sharing
    a cassette keep each other's new ones.
    """
    fresh_since = started if spec == "rewrite" else None
    if spec == "once":
        spec = "replay" if _has_recordings(path) else "record"
    return (ALIASES[spec][0] if spec in ALIASES else spec), fresh_since


def miss_source(source: str) -> str:
    """What a miss's hints say about where the mode came from ("passed as an argument" would mislead)."""
    return {f"${ENV_MODE}": "environment", "default": "default"}.get(source, "pytest")


def _has_recordings(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.json"))
