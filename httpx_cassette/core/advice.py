"""What a replay miss advises (`httpx_cassette.core.miss` renders it): how to record the request, built
from where the mode came from; whether a changed body field is one to leave out of the key or a sign
that the recording is stale; and, for a cassette directory that does not exist, the folders next to it
that may be the one meant.

Where a mode came from, as a ``mode_source`` says it: ``"argument"`` (``mode=``), ``"environment"``
(``$HTTPX_CASSETTE_MODE``) or ``"default"``; under the pytest plugin ``"pytest"``, or ``"pytest:"`` and
the plugin's own name of the source: ``--cassette-mode``, ``--record-mode``, ``$HTTPX_CASSETTE_MODE``,
``marker``, ``fixture``, ``cassette_mode ini option`` or ``default`` (see `Cassette.set_mode_source`).
No two lines of one message may disagree: each source gets one way to record, and the hints say why.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.core.key import SEMANTIC_HEADERS
from httpx_cassette.core.shown import shown
from httpx_cassette.model.jsondiff import MISSING

__all__ = [
    "directory_hints",
    "field_hints",
    "from_plugin",
    "header_hints",
    "looks_volatile",
    "mode_hints",
    "record_advice",
]

_ENV = "HTTPX_CASSETTE_MODE"
_ENTRIES = "CassetteTransport / use_cassette"
_RERUN = "rerun pytest with --cassette-mode record-missing"
_OVER = {  # what --cassette-mode wins over, by the plugin's source of the mode
    "marker": "the mode the test's marker sets",
    "fixture": "the mode the cassette_config fixture sets",
    "cassette_mode ini option": "the cassette_mode ini option",
}
# A body path that `ignore_json_paths` can take back exactly (no dots or brackets inside a key).
_IGNORABLE = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*|\[\d+\])*")
_SEGMENTS = re.compile(r"[^.\[\]]+")  # the names along a body path (list indexes are digits only)
# Fields whose value changes from run to run (leaving them out of the key is right), by name or by value;
# and the fields that make a request what it is (a change there makes the recording stale).
_VOLATILE_NAME = re.compile(r"(?i).*(?:id|_at|timestamp.*)|seed|user|nonce|(?:.*_)?(?:time|date)")
_VOLATILE_VALUE = re.compile(
    r"(?i)[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # a UUID
    r"|\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"  # a date, a time
    r"|1\d{9}(?:\d{3})?(?:\.\d+)?"  # seconds or milliseconds since 1970 (2001-2033)
)
_PROMPT = frozenset({
    "messages", "input", "prompt", "system", "instructions", "model", "temperature", "tools", "tool_choice",
    "functions", "function_call", "top_p", "top_k", "max_tokens", "max_completion_tokens", "stop", "n",
    "max_output_tokens", "response_format", "text", "contents", "reasoning", "reasoning_effort",
    "thinking", "stream", "generationConfig", "system_instruction", "query", "documents",
})  # fmt: skip
_SIBLINGS_OPENED = 200  # looked into for the very request (one stat each), only when there are no more
_SHOWN = 3  # fields, folders named in one hint


def _listed(names: list[str], word: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} {word} {names[-1]}"


# -- how to record -------------------------------------------------------------------------------


def _origin(source: str) -> tuple[bool, str]:
    """(whether the pytest plugin chose the mode, the source without the plugin's prefix)."""
    plugin, _, origin = source.partition(":")
    if plugin != "pytest":
        return False, source
    return True, "environment" if origin == f"${_ENV}" else origin


def from_plugin(source: str) -> bool:
    """Whether the pytest plugin chose the mode (its marker is then where options go)."""
    return _origin(source)[0]


def mode_hints(mode: str, source: str, given: str | None) -> list[str]:
    """Why nothing was recorded, when the mode was chosen on purpose: an argument, the environment, the
    command line (``given``: the mode as that source said it, a vcrpy name such as ``none`` too)."""
    if mode != "replay":
        return []
    origin = _origin(source)[1]
    if origin == "argument":
        return ["the mode 'replay' was passed as the mode argument, which wins over HTTPX_CASSETTE_MODE"]
    if origin == "environment":
        return [f"{_ENV}={given or mode} is set in the environment, so nothing is recorded"]
    if origin in ("--cassette-mode", "--record-mode") and given:
        flag = f"{origin}={given}" if origin == "--record-mode" else f"{origin} {given}"
        return [f"this run passed {flag}, which replays this cassette, so nothing is recorded"]
    return []


def record_advice(source: str, given: str | None, has_recordings: bool) -> str:
    """How to record the missed request, by where the mode came from: only the argument when it was passed
    in code, the variable when it came from the environment, the option to rerun pytest with when it came
    from the plugin (pytest-recording's ``--record-mode`` when that is the one used: ``once`` records only
    into a cassette with no recordings); both the variable and the option for the plugin's default."""
    plugin, origin = _origin(source)
    if origin == "argument":
        return f"pass mode='record-missing' instead of mode={given or 'replay'!r} (to {_ENTRIES})"
    if origin == "environment":
        return f"run with {_ENV}=record-missing"
    if origin == "--record-mode":
        return f"rerun pytest with --record-mode={'new_episodes' if has_recordings else 'once'}"
    if not plugin:
        return f"run with {_ENV}=record-missing (or pass mode='record-missing' to {_ENTRIES})"
    if origin == "default":
        return f"run with {_ENV}=record-missing, or {_RERUN}"
    return f"{_RERUN} (it wins over {_OVER[origin]})" if origin in _OVER else _RERUN


# -- a body that differs -------------------------------------------------------------------------


def looks_volatile(where: str, recorded: Any, requested: Any) -> bool:
    """Whether the body field at ``where`` looks like one that changes on every run: by its name
    (``request_id``, ``created_at``, ``timestamp``, ``seed``, ``user``, anything under ``metadata``),
    else, unless it is a part of the request proper (``messages``, ``model``, ``temperature``...), by its
    values (a UUID, a timestamp or a date on both sides)."""
    names = [name for name in _SEGMENTS.findall(where) if not name.isdigit()]
    if not names:
        return False
    if _VOLATILE_NAME.fullmatch(names[-1]) or "metadata" in names[:-1]:
        return True
    if names[0] in _PROMPT or MISSING in (recorded, requested):
        return False
    return all(not isinstance(v, bool) and _VOLATILE_VALUE.fullmatch(str(v)) for v in (recorded, requested))


def field_hints(fields: list[tuple[str, Any, Any]], plugin: bool) -> list[str]:
    """The hints for body ``fields`` that differ, each (path, recorded, requested): a request that changed
    makes a stale recording, to record again; only volatile-looking fields are worth leaving out of the
    key (``plugin``: say it with the marker)."""
    volatile = [where for where, old, new in fields if looks_volatile(where, old, new)]
    changed = [where or "the body" for where, _, _ in fields if where not in volatile]
    hints = []
    if changed:
        shown = changed[:_SHOWN] + ([f"{len(changed) - _SHOWN} more"] if len(changed) > _SHOWN else [])
        verb = "differs" if len(changed) == 1 else "differ"
        hints.append(
            f"the request changed ({_listed(shown)} {verb}): the recording is stale, so record it again (as"
            " below) rather than leave what the code sends on purpose out of the key"
        )
    if volatile and len(volatile) <= _SHOWN and all(_IGNORABLE.fullmatch(p) for p in volatile):
        listed = ", ".join(msgspec.json.encode(p).decode() for p in volatile)
        verb, it = ("changes", "it") if len(volatile) == 1 else ("change", "them")
        where = "@pytest.mark.cassette(" if plugin else "CassetteTransport(..., "
        hints.append(
            f"if {_listed(volatile)} {verb} from run to run (an id, a timestamp, a random seed), leave {it}"
            f" out of the key: {where}ignore_json_paths=[{listed}])"
        )
    return hints


# -- a directory that does not exist -------------------------------------------------------------


def header_hints(headers: list[tuple[str, Any, Any]]) -> list[str]:
    """Why each of ``headers`` (name, recorded value, requested value; `MISSING` where absent), the only
    differences of a miss, is in the key: the content type and the beta headers always are, any other
    header only because ``match_headers`` names it."""
    hints = []
    for name, recorded, requested in headers:
        if name == "content-type":
            had = "no content-type" if recorded is MISSING else f"content-type {shown(str(recorded))}"
            sent = "none" if requested is MISSING else shown(str(requested))
            hints.append(
                f"only the content type differs: the recording has {had}, the request sent {sent}; every key"
                " holds the content type (it says how the body is read): give a recording written by hand"
                " the request's content-type header, or record again"
            )
        elif name in SEMANTIC_HEADERS:
            betas = _listed(list(SEMANTIC_HEADERS))
            hints.append(
                f"only the header {name} differs: every key holds the beta headers ({betas}), since they"
                " change what the API does; an SDK upgrade or other betas changed it: record again"
            )
        else:
            hints.append(f"only the header {name} differs; it is in the key because of match_headers")
    return hints


def directory_hints(
    cassette: Path, siblings: list[str], holds: Callable[[Path], bool] | None = None
) -> list[str]:
    """For a cassette directory that does not exist: check the path (said relative to what, when it is
    relative), and the folders next to it (``siblings``, listed by the storage layer) which hold this
    very request (``holds``, asked only when there are at most 200 of them) or whose name is close."""
    relative = "" if cassette.is_absolute() else f" (relative paths start at {Path.cwd()})"
    hints = [f"check the path{relative}, or record into it"]
    holding = []
    if holds is not None and len(siblings) <= _SIBLINGS_OPENED:
        holding = [name for name in siblings if _holds(holds, cassette.parent / name)]
    for name in holding[:_SHOWN]:
        hints.append(f"{cassette.parent / name} holds a recording of this very request: did you mean it?")
    close = [n for n in difflib.get_close_matches(cassette.name, siblings, n=_SHOWN) if n not in holding]
    if close:
        names = _listed([str(cassette.parent / name) for name in close], "or")
        hints.append(f"did you mean {names}? (a folder next to it with a similar name)")
    return hints


def _holds(holds: Callable[[Path], bool], folder: Path) -> bool:
    try:
        return holds(folder)
    except OSError:  # a folder this process may not look into
        return False
