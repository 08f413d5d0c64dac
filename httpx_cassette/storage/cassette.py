"""A cassette in use: the mode decision for each request, ordered repeats, and what happened.

Pure bookkeeping over a `DirectoryStore`, no HTTP: the transport asks `plan` what to do with a
request and hands finished recordings to `save`. Thread-safe, so sync threads and asyncio tasks
can share one cassette.
"""

from __future__ import annotations

import os
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from httpx_cassette.config import CassetteConfig, Overrides, ReplayTiming
from httpx_cassette.core.key import KeyOptions, canonical_form, key_of
from httpx_cassette.core.merge import Recording
from httpx_cassette.core.miss import diagnose, miss_error
from httpx_cassette.core.modes import ENV_MODE, Mode, resolve_mode
from httpx_cassette.core.plan import Play, Record
from httpx_cassette.core.redact import Redaction
from httpx_cassette.core.replay import Prepared, prepare
from httpx_cassette.core.scan import SecretScanner, refusal
from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.model.cassette import CassetteFile, Meta, Request, Response
from httpx_cassette.storage.files import check_directory, make_directory
from httpx_cassette.storage.store import DirectoryStore

if TYPE_CHECKING:
    from typing_extensions import Unpack


__all__ = ["Cassette"]


class Cassette:
    """One cassette directory in one mode, with the state of this session.

    Configured by a `CassetteConfig` and/or its flat keywords. Every recording is redacted, then scanned
    for credentials before it is written and refused if one is found (unless allowed). A ``scope`` (a
    test id) replays only the responses recorded for that test (and those recorded for none) and marks
    new recordings with it; ``format="llama-stack"`` writes llama-stack recordings.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        config: CassetteConfig | None = None,
        **overrides: Unpack[Overrides],
    ) -> None:
        self.config = config = CassetteConfig.of(config, **overrides)
        self.path = Path(path)
        self.mode: Mode = resolve_mode(config.mode)
        from_env = "environment" if os.environ.get(ENV_MODE) else "default"
        self.mode_source = "argument" if config.mode is not None else from_env  # for the hints of a miss
        match, redact, storage = config.match, config.redact, config.storage
        self.key_options = KeyOptions(match.include_host, match.ignore_json_paths, match.match_headers)
        self.strict_repeats = config.replay.strict_repeats
        self.replay_timing: ReplayTiming = config.replay.timing
        self.scope = storage.scope
        self.store = DirectoryStore(
            self.path,
            self.key_options,
            storage.max_inline_bytes,
            scope=storage.scope,
            write_format=storage.format,
        )
        self.redaction = Redaction(redact.json_paths, redact.headers, redact.placeholders)
        self.scanner = SecretScanner(redact.allow_secrets)
        self.played: list[tuple[str, int]] = []
        self.recorded: list[tuple[str, int]] = []
        self._seen: dict[str, int] = {}
        self._pending: dict[str, Recording] = {}
        self._prepared: dict[tuple[str, int], Prepared] = {}
        self._lock = threading.Lock()
        # Storage problems are reported now, or before the first request is forwarded: never after a
        # paid call.
        check_directory(self.path, writable=self.mode in ("record", "record-missing"))
        self._directory_made = False

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"

    def key(self, request: Request) -> str:
        return key_of(self.redaction.request(request), self.key_options)

    def plan(self, request: Request) -> Play | Record:
        """Decide what to do with one request; raises `CassetteMiss` in replay mode, and
        `CassetteSecretError` (before anything is sent) for a request that would write a credential."""
        request = self.redaction.request(request)
        key = key_of(request, self.key_options)
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
                return self._play(key, request, nth, pending.kept)
            findings = self.scanner.scan_struct(pending.request, "$.request")
            if findings:
                raise refusal(self.path, f"the request {request.method} {request.url}", findings)
            if not self._directory_made:
                make_directory(self.path)
                self._directory_made = True
            pending.slots.append(None)
            return Record(key, request, nth - len(pending.kept))

    def _start(self, key: str, request: Request) -> Recording:
        """This session's first touch of ``key``: what its file holds now, to replay first or to drop."""
        if self.mode == "record-missing":
            found = self.store.read_fresh(key, request) or self.store.get(key)  # get: a renamed file too
            return Recording(request, kept=list(found.responses) if found else [], stale=[])
        found = self.store.read_fresh(key, request, replace_broken=True)
        return Recording(request, kept=[], stale=list(found.responses) if found else [])

    def _play(self, key: str, request: Request, nth: int, responses: list[Response] | None = None) -> Play:
        if responses is None:
            recorded = self.store.get(key, request)
            responses = recorded.responses if recorded is not None else []
        if not responses:
            raise self._miss(request, self.store.absent_reason(key))
        count = len(responses)
        if nth >= count and self.strict_repeats:
            raise self._miss(request, f"all {count} recorded responses were already played", count)
        index = min(nth, count - 1)
        prepared = self._prepared.get((key, index))
        if prepared is None:
            prepared = self._prepared[(key, index)] = self._prepare(key, index, responses[index])
        self.played.append((key, index))
        return Play(key, index, prepared)

    def _prepare(self, key: str, index: int, response: Response) -> Prepared:
        body = self.store.body_file_bytes(key, response)
        try:
            return prepare(self.redaction.restore(response), self.replay_timing, body)
        except (ValueError, TypeError, RecursionError) as exc:  # a file edited into something unplayable
            file = self.store.file_of(key) or self.path
            raise CassetteFormatError(str(file), f"response {index} cannot be replayed: {exc}") from None

    def _miss(self, request: Request, reason: str, played: int = 0) -> Exception:
        recorded = [(file, canonical_form(r.request, self.key_options)) for _, file, r in self.store.items()]
        report = diagnose(
            self.path,
            canonical_form(request, self.key_options),
            recorded,
            reason=reason,
            mode=self.mode,
            mode_source=self.mode_source,
            played=played,
        )
        return miss_error(report)

    def save(self, plan: Record, response: Response, meta: Meta) -> None:
        """Store a finished recording in its slot and merge it into the key's file as it is on disk now.

        Raises `CassetteSecretError`, writing nothing, if the (redacted) response holds a credential.
        """
        if plan.slot is None:
            return
        recording = self._pending[plan.key]
        response = self.redaction.response(response)
        if self.scope is not None:
            response.test_id = self.scope
        findings = self.scanner.scan_struct(response, f"$.responses[{len(recording.kept) + plan.slot}]")
        if findings:
            request = recording.request
            raise refusal(self.path, f"the response to {request.method} {request.url}", findings)
        with self._lock:
            recording.slots[plan.slot] = response
            meta.recorded_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
            written: list[int] = []

            def merged(current: CassetteFile | None) -> CassetteFile:
                responses, written[:] = recording.merge(current.responses if current else [])
                return CassetteFile(request=recording.request, responses=responses, meta=meta)

            replace_broken = self.mode == "record"
            stored = self.store.update(plan.key, recording.request, merged, replace_broken=replace_broken)
            recording.wrote(stored.responses, written)
            index = len(stored.responses) - len(written) + written.index(plan.slot)
            self.recorded.append((plan.key, index))
            self._prepared.pop((plan.key, index), None)

    def unused(self) -> list[Path]:
        """Files of this cassette that no request of this session used."""
        used = {key for key, _ in self.played} | {key for key, _ in self.recorded}
        return sorted(file for key, file, _ in self.store.items() if key not in used)

    def all_recorded(self) -> list[tuple[str, CassetteFile]]:
        """Every (key, file contents) in the directory."""
        return [(key, cassette) for key, _, cassette in self.store.items()]
