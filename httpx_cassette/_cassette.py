"""A cassette in use: the mode decision for each request, ordered repeats, and what happened.

Pure bookkeeping over a `DirectoryStore`, no HTTP: the transport asks `plan` what to do with a
request and hands finished recordings to `save`. Thread-safe, so sync threads and asyncio tasks
can share one cassette.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, get_args

from ._errors import CassetteError
from ._format import CassetteFile, Meta, Request, Response
from ._key import KeyOptions, canonical_form, key_of
from ._miss import MissReport, miss_error
from ._replay import Prepared, ReplayTiming, prepare
from ._store import DirectoryStore

__all__ = ["Cassette", "Mode", "Play", "Record", "resolve_mode"]

Mode = Literal["replay", "record", "record-missing", "live"]
MODES: tuple[Mode, ...] = get_args(Mode)
ENV_MODE = "HTTPX_CASSETTE_MODE"


def resolve_mode(mode: str | None) -> Mode:
    """``mode`` if given, else ``$HTTPX_CASSETTE_MODE``, else ``"replay"``; validated."""
    source = "mode" if mode is not None else ENV_MODE
    value = mode if mode is not None else (os.environ.get(ENV_MODE) or "replay")
    for known in MODES:
        if value == known:
            return known
    raise CassetteError(f"unknown {source} {value!r}: use one of {', '.join(MODES)}")


@dataclass(frozen=True)
class Play:
    """Serve a recorded response."""

    key: str
    index: int
    prepared: Prepared


@dataclass(frozen=True)
class Record:
    """Forward the request; ``slot`` is its place among the key's responses (None: live, no write)."""

    key: str
    request: Request
    slot: int | None


@dataclass
class _Pending:
    request: Request
    kept: list[Response]  # responses recorded before this session that stay in the file
    slots: list[Response | None] = field(default_factory=list)


class Cassette:
    """One cassette directory in one mode, with the state of this session."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        mode: str | None = None,
        key_options: KeyOptions | None = None,
        strict_repeats: bool = False,
        replay_timing: ReplayTiming = "instant",
    ) -> None:
        self.path = Path(path)
        self.mode: Mode = resolve_mode(mode)
        self.key_options = key_options or KeyOptions()
        self.strict_repeats = strict_repeats
        self.replay_timing: ReplayTiming = replay_timing
        self.store = DirectoryStore(self.path, self.key_options)
        self.played: list[tuple[str, int]] = []
        self.recorded: list[tuple[str, int]] = []
        self._seen: dict[str, int] = {}
        self._pending: dict[str, _Pending] = {}
        self._prepared: dict[tuple[str, int], Prepared] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"

    def key(self, request: Request) -> str:
        return key_of(request, self.key_options)

    def plan(self, request: Request) -> Play | Record:
        """Decide what to do with one (redacted) request; raises `CassetteMiss` in replay mode."""
        key = self.key(request)
        with self._lock:
            nth = self._seen.get(key, 0)
            self._seen[key] = nth + 1
            if self.mode == "live":
                return Record(key, request, None)
            if self.mode == "replay":
                return self._play(key, request, nth)
            pending = self._pending.get(key)
            if pending is None:
                pending = self._pending[key] = self._start(key, request)
            if nth < len(pending.kept):
                return self._play(key, request, nth)
            pending.slots.append(None)
            return Record(key, request, nth - len(pending.kept))

    def _start(self, key: str, request: Request) -> _Pending:
        existing = self.store.get(key) if self.mode == "record-missing" else None
        return _Pending(request, list(existing.responses) if existing else [])

    def _play(self, key: str, request: Request, nth: int) -> Play:
        recorded = self.store.get(key)
        if recorded is None or not recorded.responses:
            raise self._miss(request, "no recording")
        count = len(recorded.responses)
        if nth >= count and self.strict_repeats:
            raise self._miss(request, f"all {count} recorded responses were already played")
        index = min(nth, count - 1)
        prepared = self._prepared.get((key, index))
        if prepared is None:
            prepared = self._prepared[(key, index)] = prepare(recorded.responses[index], self.replay_timing)
        self.played.append((key, index))
        return Play(key, index, prepared)

    def _miss(self, request: Request, reason: str) -> Exception:
        canonical = canonical_form(request, self.key_options)
        report = MissReport(self.path, request.method, canonical["path"], canonical, reason)
        return miss_error(report)

    def save(self, plan: Record, response: Response, meta: Meta) -> None:
        """Store a finished recording in its slot and rewrite the key's file."""
        if plan.slot is None:
            return
        with self._lock:
            pending = self._pending[plan.key]
            pending.slots[plan.slot] = response
            done = [r for r in pending.slots if r is not None]
            meta.recorded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            cassette = CassetteFile(request=pending.request, responses=[*pending.kept, *done], meta=meta)
            self.store.put(plan.key, cassette)
            self.recorded.append((plan.key, len(pending.kept) + plan.slot))
            self._prepared.pop((plan.key, len(pending.kept) + plan.slot), None)

    def unused(self) -> list[Path]:
        """Files of this cassette that no request of this session used."""
        used = {key for key, _ in self.played} | {key for key, _ in self.recorded}
        return sorted(file for key, file, _ in self.store.items() if key not in used)

    def all_recorded(self) -> list[tuple[str, CassetteFile]]:
        """Every (key, file contents) in the directory."""
        return [(key, cassette) for key, _, cassette in self.store.items()]
