"""Explaining a replay miss: the closest recorded requests, what differs, and the likely cause.

`diagnose` compares the missed request's canonical form (what its key is the hash of) with the canonical
form of every request recorded in the cassette, ranks them, and lists the differences of the best one
part by part: method, path, host, query parameter, key header, or the JSON body down to the path
(``messages[2].content: "Hi" → "Hello"``). Hints name the common causes (`httpx_cassette.core.advice`):
a field that changes on every run (an id, a timestamp: leave it out of the key) or a request that changed
(a prompt: the recording is stale), a repeat past the end with ``strict_repeats``, a directory that does
not exist (and the folders next to it that may be the one meant), the mode. The last line says how to
record the request, by where the mode came from (``mode_source``). The same diagnosis is
`CassetteMiss.details` (a `MissReport`), for the CLI and for tests.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.core.advice import (
    directory_hints,
    field_hints,
    from_plugin,
    header_hints,
    mode_hints,
    record_advice,
)
from httpx_cassette.core.findings import mask
from httpx_cassette.core.randomness import random_token
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.secrets import secret_value
from httpx_cassette.core.shown import shown
from httpx_cassette.errors import CassetteMiss
from httpx_cassette.model.jsondiff import MISSING, around_difference, show_value, walk

__all__ = ["Candidate", "Difference", "MissReport", "diagnose", "miss_error", "render"]

_MAX_BODY = 2000
_SHOWN_CANDIDATES = 3
_KEPT_CANDIDATES = 5
_SHOWN_DIFFERENCES = 8
_WIDTH = 60  # a value longer than this is cut around where the two sides first differ
# Heavier parts make a recorded request less likely to be the one meant; the body counts per field, capped,
# so a long conversation with three changed messages still ranks above another endpoint.
_WEIGHT = {"method": 8.0, "path": 4.0, "host": 2.0, "header": 1.0, "query": 1.0}
_BODY_CAP = 3.0
_PART_ORDER = ("method", "path", "host", "query", "header", "body")
_SCANNER = SecretScanner()  # what a message must not print: what recording refuses to write
_HIDDEN = "(not shown: it holds what looks like a credential)"
_LAST_NAME = re.compile(r"(?:\[\d+\])+$")  # a body path's list indexes, after the field's name


@dataclass(frozen=True)
class Difference:
    """One part where a recorded request differs from the missed one.

    ``part`` is ``method``, ``path``, ``host``, ``query``, ``header`` or ``body``; ``where`` names the query
    parameter, the header, or the JSON path in the body (``""``: the part as a whole). A side where it is
    absent holds `MISSING`.
    """

    part: str
    where: str
    recorded: Any
    requested: Any

    @property
    def change(self) -> str:
        """``changed``, ``added`` (only the request has it) or ``removed`` (only the recording has it)."""
        if self.recorded is MISSING:
            return "added"
        return "removed" if self.requested is MISSING else "changed"

    def __str__(self) -> str:
        label = f"{self.part} {self.where}" if self.where else self.part
        old, new = (
            show_value(self._shown(self.recorded), 10**9),
            show_value(self._shown(self.requested), 10**9),
        )
        if len(old) > _WIDTH or len(new) > _WIDTH:
            old, new = around_difference(old, new, _WIDTH)
        return f"{label}: {old} → {new}"

    def _shown(self, value: Any) -> Any:
        """``value`` masked when its name says it is a credential (a hand-written or foreign file may hold
        one in a query parameter or a field; what is not named so, `shown` masks by its format), and a
        query or header value that holds a random token (``?appid=<32 hex>``): the live request's key
        would reach CI logs. Only shown masked: the key still tells such values apart."""
        name = _LAST_NAME.sub("", self.where).rpartition(".")[2]
        if not isinstance(value, str):  # a whole body: a form's pairs are tuples, JSON makes them lists
            plain = msgspec.json.decode(msgspec.json.encode(value)) if value is not MISSING else None
            return _HIDDEN if _SCANNER.scan(plain) else value
        secret = secret_value(name, value, query=self.part == "query") or bool(_SCANNER.scan(value))
        if not secret and self.part in ("query", "header"):
            secret = random_token(value) is not None
        return mask(value) if secret else value

    def as_dict(self) -> dict[str, Any]:
        return {
            "part": self.part,
            "where": self.where,
            "change": self.change,
            "recorded": None if self.recorded is MISSING else self.recorded,
            "requested": None if self.requested is MISSING else self.requested,
        }


@dataclass(frozen=True)
class Candidate:
    """A recorded request, how far it is from the missed one (lower is closer), and the differences."""

    file: Path
    method: str
    path: str
    distance: float
    differences: list[Difference]

    def summary(self) -> str:
        parts = sorted({d.part for d in self.differences}, key=_PART_ORDER.index)
        count = len(self.differences)
        what = f"{count} difference{'s' if count != 1 else ''}" + (f" ({', '.join(parts)})" if parts else "")
        return f"{self.file.name}: {self.method} {self.path}, {what}"

    def as_dict(self) -> dict[str, Any]:
        return _plain_fields(self)


@dataclass(frozen=True)
class MissReport:
    """A miss as data: the request's canonical form, where it was looked for, and the closest recordings."""

    cassette: Path
    method: str
    path: str
    canonical: dict[str, Any]
    reason: str = "no recording"
    hints: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)  # best first
    mode: str = "replay"
    directory_exists: bool = True
    mode_source: str = "default"  # where the mode came from: see `httpx_cassette.core.advice`
    mode_given: str | None = None  # the mode as its source gave it (a vcrpy name such as "none")

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (absent values are None; see each difference's ``change``)."""
        return _plain_fields(self)


def _plain_fields(record: Candidate | MissReport) -> dict[str, Any]:
    """A dataclass's fields as JSON-ready data: paths as strings, nested records by their `as_dict`."""
    return {f.name: _plain(getattr(record, f.name)) for f in fields(record)}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list):
        return [v.as_dict() if isinstance(v, (Difference, Candidate)) else v for v in value]
    return value


# -- comparing canonical forms -----------------------------------------------------------------------


def _multimap(pairs: Iterable[Any]) -> dict[str, Any]:
    """Query or form pairs as ``name -> value`` (a list when the name repeats)."""
    grouped: dict[str, list[Any]] = {}
    for name, value in pairs:
        grouped.setdefault(str(name), []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in grouped.items()}


def _named(part: str, recorded: dict[str, Any], requested: dict[str, Any]) -> list[Difference]:
    names = [*recorded, *(n for n in requested if n not in recorded)]
    return [
        Difference(part, name, recorded.get(name, MISSING), requested.get(name, MISSING))
        for name in names
        if recorded.get(name, MISSING) != requested.get(name, MISSING)
    ]


def _kind(body: dict[str, Any] | None) -> tuple[str | None, Any]:
    """A canonical body (None, or one of ``{"json"|"form"|"multipart"|"text"|"base64_sha256": value}``)."""
    return next(iter(body.items())) if body else (None, MISSING)


def _body(recorded: dict[str, Any] | None, requested: dict[str, Any] | None) -> list[Difference]:
    if recorded == requested:
        return []
    (kind_a, a), (kind_b, b) = _kind(recorded), _kind(requested)
    if kind_a != kind_b or kind_a not in ("json", "form", "multipart"):
        return [Difference("body", "", a, b)]
    if kind_a == "form":
        a, b = _multimap(a), _multimap(b)
    try:
        return [Difference("body", path, old, new) for path, old, new in walk(a, b, "")]
    except RecursionError:  # a body nested deeper than Python recurses: say so without the details
        return [Difference("body", "", a, b)]


def compare(recorded: dict[str, Any], requested: dict[str, Any]) -> list[Difference]:
    """Every difference between two canonical forms, in the order a person checks them."""
    found: list[Difference] = []
    for part in ("method", "path", "host"):
        if recorded.get(part, MISSING) != requested.get(part, MISSING):
            found.append(Difference(part, "", recorded.get(part, MISSING), requested.get(part, MISSING)))
    found += _named("query", _multimap(recorded["query"]), _multimap(requested["query"]))
    found += _named("header", recorded["headers"], requested["headers"])
    found += _body(recorded["body"], requested["body"])
    return found


def _distance(differences: list[Difference]) -> float:
    body = sum(1.0 for d in differences if d.part == "body")
    return sum(_WEIGHT.get(d.part, 0.0) for d in differences) + min(body, _BODY_CAP) + body / 1000


def rank(requested: dict[str, Any], recorded: Iterable[tuple[Path, dict[str, Any]]]) -> list[Candidate]:
    """Recorded requests (file, canonical form), closest to ``requested`` first."""
    candidates = []
    for file, canonical in recorded:
        differences = compare(canonical, requested)
        candidates.append(
            Candidate(file, canonical["method"], canonical["path"], _distance(differences), differences)
        )
    candidates.sort(key=lambda c: (c.distance, c.file.name))
    return candidates


# -- hints -------------------------------------------------------------------------------------------


def _difference_hints(best: Candidate, plugin: bool) -> list[str]:
    parts = {d.part for d in best.differences}
    if parts == {"body"}:
        return field_hints([(d.where, d.recorded, d.requested) for d in best.differences], plugin)
    if parts == {"host"}:
        return ["only the host differs: pass include_host=False to match recordings made against any host"]
    if parts == {"header"}:
        return header_hints([(d.where, d.recorded, d.requested) for d in best.differences])
    return []


def diagnose(
    cassette: Path,
    requested: dict[str, Any],
    recorded: Iterable[tuple[Path, dict[str, Any]]],
    *,
    reason: str = "no recording",
    mode: str = "replay",
    mode_source: str = "default",
    mode_given: str | None = None,
    played: int = 0,
    holds: Callable[[Path], bool] | None = None,
    siblings: list[str] | None = None,
) -> MissReport:
    """The report for a miss of the request whose canonical form is ``requested``.

    ``recorded`` holds every (file, canonical form) of the cassette; ``played`` is how many responses the
    request has when the miss is a repeat past the end (``strict_repeats``). ``mode_source`` and
    ``mode_given`` say where the mode came from (see the module's docstring); ``holds`` says whether
    another cassette directory holds a recording of the request, ``siblings`` names the folders next to a
    directory that does not exist.
    """
    exists = cassette.is_dir()
    candidates = rank(requested, recorded)
    report = MissReport(
        cassette,
        requested["method"],
        requested["path"],
        requested,
        reason,
        [],
        candidates[:_KEPT_CANDIDATES],
        mode,
        exists,
        mode_source,
        mode_given,
    )
    hints = report.hints
    if not exists:
        hints += directory_hints(cassette, siblings or [], holds)
    elif played:
        hints.append(
            f"this request was recorded {played} time{'s' if played != 1 else ''} and this is call"
            f" {played + 1} with strict_repeats=True: record the extra call (record-missing), or pass"
            " strict_repeats=False to replay the last response again"
        )
    elif not candidates:
        hints.append(f"the cassette {cassette} holds no recordings yet")
    elif candidates[0].differences:
        hints += _difference_hints(candidates[0], from_plugin(mode_source))
    hints += mode_hints(mode, mode_source, mode_given)
    return report


# -- text --------------------------------------------------------------------------------------------


def _shorten(text: str, limit: int = _MAX_BODY) -> str:
    return text if len(text) <= limit else f"{text[: limit // 2]} … {text[-limit // 2 :]}"


def _still_secret(masked: str) -> bool:
    """Whether a body masked by `shown` still holds what recording would refuse to write."""
    try:
        return bool(_SCANNER.scan(msgspec.json.decode(masked)))
    except msgspec.DecodeError:  # escapes `shown` wrote: judge it unmasked
        return True


def render(report: MissReport) -> str:
    """The message a person reads."""
    body = msgspec.json.encode(report.canonical.get("body"), order="sorted").decode()
    if _SCANNER.scan(msgspec.json.decode(body)) and _still_secret(shown(body)):
        body = _HIDDEN  # one `shown` cannot mask by itself
    lines = [
        f"{report.reason} for {report.method} {report.path} in cassette {report.cassette}"
        + ("" if report.directory_exists else " (the directory does not exist)"),
        f"  canonical body: {_shorten(body)}",
    ]
    closest = report.candidates[:_SHOWN_CANDIDATES]
    if closest:
        lines.append("  closest recorded requests, best first:")
        lines += [f"    {i}. {c.summary()}" for i, c in enumerate(closest, 1)]
    best = report.best
    if best is not None and best.differences and not report.reason.startswith("all "):
        lines.append(f"  how {best.file.name} differs (recorded → requested):")
        lines += [f"    {d}" for d in best.differences[:_SHOWN_DIFFERENCES]]
        if len(best.differences) > _SHOWN_DIFFERENCES:
            lines.append(f"    … and {len(best.differences) - _SHOWN_DIFFERENCES} more")
    lines += [f"  hint: {hint}" for hint in report.hints]
    advice = record_advice(report.mode_source, report.mode_given, bool(report.candidates))
    lines.append(f"  to record it: {advice}")
    return shown("\n".join(lines))  # it reaches CI logs: no credential in it


def miss_error(report: MissReport) -> CassetteMiss:
    return CassetteMiss(render(report), report)
