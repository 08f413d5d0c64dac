"""The four modes, vcrpy's record-mode names as aliases, and the one resolver that picks a mode.

A mode comes from an argument, else ``$HTTPX_CASSETTE_MODE``, else ``replay``; the pytest plugin
adds its own sources (the order is in `httpx_cassette.pytest_plugin`). vcrpy's names are resolved
per cassette: ``once`` against whether the directory has recordings, ``rewrite`` against the start
of the run.

``$HTTPX_CASSETTE_MODE`` takes vcrpy's names wherever it is read (the plugin, `CassetteTransport`,
``use_cassette``), so one variable serves a whole suite; an argument takes our four names only.
Outside the plugin ``rewrite`` is ``record`` (no run start to empty the directory against), and
``once`` is resolved against the directory as a `Cassette` is made (the caller says whether it has
recordings).
"""

from __future__ import annotations

import os

from httpx_cassette.config import MODES, Mode
from httpx_cassette.errors import CassetteError

__all__ = [
    "ALIASES",
    "ENV_MODE",
    "MODES",
    "RECORDING",
    "Mode",
    "alias_note",
    "checked",
    "default_mode",
    "resolve_alias",
    "resolve_mode",
]

ENV_MODE = "HTTPX_CASSETTE_MODE"

# alias: (the mode it stands for, what it does)
ALIASES: dict[str, tuple[str, str]] = {
    "none": ("replay", "never record; a request with no recording fails"),
    "once": ("replay or record", "replay a cassette directory that has recordings, record an empty one"),
    "new_episodes": ("record-missing", "replay what is recorded, record the rest"),
    "all": ("record", "record every request again"),
    "rewrite": ("record", "record into an emptied cassette directory"),
}
RECORDING: tuple[Mode, ...] = ("record", "record-missing")  # the modes that write to the cassette


def checked(value: str, source: str, *, aliases: bool = True) -> str:
    """``value`` if it names a mode (or, with ``aliases``, a vcrpy alias); else an error naming ``source``."""
    if value in MODES or (aliases and value in ALIASES):
        return value
    known = ", ".join([*MODES, *(ALIASES if aliases else ())])
    raise CassetteError(f"unknown cassette mode {value!r} in {source}: use one of {known}")


def resolve_mode(mode: str | None, *, has_recordings: bool | None = None) -> Mode:
    """``mode`` if given (one of the four), else ``$HTTPX_CASSETTE_MODE`` (one of the four or a vcrpy
    name, mapped as the plugin maps it), else ``"replay"``; validated.

    ``has_recordings`` (whether the cassette directory holds recordings) decides ``once``; unknown
    (None), ``once`` is ``record-missing``.
    """
    if mode is not None:
        checked(mode, "the mode argument", aliases=False)
        return _known(mode)
    value = checked(os.environ.get(ENV_MODE) or "replay", f"${ENV_MODE}")
    if value == "once" and has_recordings is None:
        return "record-missing"
    return resolve_alias(value, has_recordings=bool(has_recordings), started=0.0)[0]


def _known(value: str) -> Mode:
    return next(known for known in MODES if known == value)


def default_mode(cli_mode: str | None, ini_mode: str | None) -> tuple[str, str]:
    """The pytest plugin's mode for tests whose marker has no ``mode=``, and where it came from."""
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


def resolve_alias(spec: str, *, has_recordings: bool, started: float) -> tuple[Mode, float | None]:
    """The mode ``spec`` (a mode or alias) stands for, and its ``fresh_since``.

    ``once`` replays a cassette that ``has_recordings`` and records an empty one; ``rewrite`` removes
    the recordings older than ``started``, the start of the run, so tests sharing a cassette keep each
    other's new ones.
    """
    fresh_since = started if spec == "rewrite" else None
    if spec == "once":
        spec = "replay" if has_recordings else "record"
    concrete = ALIASES[spec][0] if spec in ALIASES else spec
    return _known(checked(concrete, "the mode", aliases=False)), fresh_since
