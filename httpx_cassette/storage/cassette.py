"""A cassette in use: the mode decision for each request, ordered repeats, and what happened.

Pure bookkeeping over a `DirectoryStore`, no HTTP: the transport asks `plan` what to do with a request
and hands finished recordings to `save`. Thread-safe (sync threads and asyncio tasks share one). Its
methods take the public types (a stored `Request` or a live httpx/httpx2 request, `Response`, `Meta`) and
never change what they are given.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from httpx_cassette.config import CassetteConfig, Overrides, ReplayChunks, ReplayTiming
from httpx_cassette.core.age import expired, too_old
from httpx_cassette.core.echoes import carried, refuse_unhidden, scrubbed
from httpx_cassette.core.hooks import call_hook, refusing_matcher
from httpx_cassette.core.key import CanonicalForm, KeyOptions, canonical_form, key_of, stored_form
from httpx_cassette.core.merge import Recording
from httpx_cassette.core.modes import ENV_MODE, Mode, resolve_mode
from httpx_cassette.core.placeholders import PlaceholderClash
from httpx_cassette.core.plan import Play, Record
from httpx_cassette.core.redact import Redaction
from httpx_cassette.core.redirects import Redirects
from httpx_cassette.core.refusals import forward_refused, placeholder_clash, refusal
from httpx_cassette.core.replay import Prepared
from httpx_cassette.core.request import LiveRequest, header_names, identity, to_record
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.seal import sealed
from httpx_cassette.core.sent import PlayLog, Sent
from httpx_cassette.core.shown import Later, shown
from httpx_cassette.core.strings import Strings, of_events
from httpx_cassette.core.writable import writable_request, writable_response
from httpx_cassette.errors import (
    CassetteAgeWarning,
    CassetteExpired,
    CassetteMiss,
    hidden_in_a_miss,
)
from httpx_cassette.model.cassette import CassetteFile, Meta, Request, Response, builtins
from httpx_cassette.storage.files import cassette_files, check_directory, make_directory
from httpx_cassette.storage.legacy import aliased, legacy_file
from httpx_cassette.storage.restore import prepared as prepared_response
from httpx_cassette.storage.store import DirectoryStore

if TYPE_CHECKING:
    from typing_extensions import Unpack


__all__ = ["REQUESTS_KEPT", "Cassette"]

REQUESTS_KEPT = 10_000  # entries of `Cassette.requests` kept: a test never makes that many
_MEMO_SIZE = 256  # live requests whose key `_keyed` remembers
_MEMO_BODY = 64 * 1024  # the largest body it remembers one for: at most 16 MB of bodies held


class Cassette:
    """One cassette directory in one mode, with the state of this session.

    Configured by a `CassetteConfig` and/or its flat keywords. Every recording is redacted, then scanned
    for credentials and refused if one is found (unless allowed). A ``scope`` (a test id) replays only the
    responses recorded for that test (and for none) and marks new recordings with it."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        config: CassetteConfig | None = None,
        **overrides: Unpack[Overrides],
    ) -> None:
        self.config = config = CassetteConfig.of(config, **overrides)
        self.path = Path(path)
        # vcrpy's `once` from the environment: replay a directory that has recordings, record an empty one.
        once = config.mode is None and os.environ.get(ENV_MODE) == "once"
        self.mode: Mode = resolve_mode(config.mode, has_recordings=once and bool(cassette_files(self.path)))
        from_env = "environment" if os.environ.get(ENV_MODE) else "default"
        self.mode_source = "argument" if config.mode is not None else from_env  # for a miss's advice
        self.mode_given = os.environ.get(ENV_MODE) if self.mode_source == "environment" else None
        match, redact, storage = config.match, config.redact, config.storage
        parts = tuple(m for m in match.match_on if isinstance(m, str))
        self._judged = len(parts) < len(match.match_on)  # match_on holds functions
        self.match_on = match.match_on
        self.key_options = KeyOptions(match.include_host, match.ignore_json_paths, match.match_headers, parts)
        self.strict_repeats = config.replay.strict_repeats
        self.replay_timing: ReplayTiming = config.replay.timing
        self.replay_chunks: ReplayChunks = config.replay.chunks
        self.scope = storage.scope
        # A configured placeholder is no secret, whatever it looks like (the documented <NAME> or not).
        self.scanner = SecretScanner([*redact.allow_secrets, *(redact.placeholders or {})])
        self.redaction = Redaction(
            redact.json_paths, redact.headers, redact.placeholders, self.scanner.allowed
        )
        self.store = DirectoryStore(
            self.path,
            self.key_options,
            storage.max_inline_bytes,
            scope=storage.scope,
            write_format=storage.format,
            as_keyed=self.redaction.request,
        )
        self.played = PlayLog(REQUESTS_KEPT)  # bounded, as `requests` is
        self.recorded: list[tuple[str, int]] = []
        self._seen: dict[str, int] = {}
        self._aliases: dict[str, str] = {}  # record-missing: a key recorded under its old hash (`aliased`)
        self._pending: dict[str, Recording] = {}
        self._prepared: dict[tuple[str, int], Prepared] = {}
        self._lock = threading.Lock()
        self.requests: list[Sent] = []  # the requests planned, in order, with what happened to them
        self._memo: dict[tuple[object, ...], tuple[Request, Request, str]] = {}  # see `_keyed`
        self._names = header_names(match.match_headers)
        self._aged: set[str] = set()  # keys whose age was reported
        self.redirects = Redirects()  # record-missing: hosts replayed redirects named, never forwarded to
        # Storage problems are reported now, or before the first request is forwarded: never after a paid call
        check_directory(self.path, writable=self.mode in ("record", "record-missing"))
        self._directory_made = False

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"

    def set_mode_source(self, source: str, given: str | None = None) -> None:
        """For the pytest plugin: its name of where it took the mode from (``--record-mode``, ``marker``,
        ``default``...: see `httpx_cassette.core.advice`) and the mode as given there (``none``), so that
        a miss says how to record in the words of that source."""
        self.mode_source, self.mode_given = f"pytest:{source}", given

    def key(self, request: Request | LiveRequest) -> str:
        """The key ``request`` (stored, or a live httpx/httpx2 one) is recorded under in this cassette."""
        return self._keyed(request)[2]

    def canonical(self, request: Request | LiveRequest) -> CanonicalForm:
        """The canonical form ``request``'s key is the hash of: diff two of these to see why keys differ."""
        return canonical_form(self._keyed(request)[1], self.key_options)

    def plan(self, request: Request | LiveRequest) -> Play | Record:
        """Decide what to do with one request (stored, or a live httpx/httpx2 one): `Play` a recorded
        response, or `Record` what the network answers and hand it to `save`.

        Raises `CassetteMiss` in replay mode, and `CassetteSecretError` (before anything is sent) for a
        request that would write a credential. ``before_record_request`` runs first (before keying and
        redaction); None from it lets the request through unrecorded. Every request is logged in
        `requests`."""
        __tracebackhide__ = hidden_in_a_miss  # pytest shows a miss's message, not these frames
        if self.config.before_record_request is None:
            stored, redacted, key = self._keyed(request)
        else:
            stored = stored_form(request, self.key_options.match_headers)
            about = f"{stored.method} {stored.url}"
            hooked = call_hook("before_record_request", self.config.before_record_request, stored, about)
            if hooked is None:
                self._log(Sent(stored, "passed"))
                return Record("", stored, None)
            stored, redacted = hooked, self.redaction.request(hooked)
            key = key_of(redacted, self.key_options)
        sent = self._log(Sent(stored, "passed"))
        try:
            plan = self._decide(redacted, key)
        except CassetteMiss:
            sent.status = "missed"
            raise
        if isinstance(plan, Play) or plan.slot is not None:
            sent.status = "replayed" if isinstance(plan, Play) else "recorded"
        if isinstance(plan, Record) and plan.slot is not None and not isinstance(request, Request):
            carries = carried(request, self.redaction.headers, self.redaction.placeholders.hiding)
            plan = replace(plan, secrets=carries)
        return plan

    def _keyed(self, request: Request | LiveRequest) -> tuple[Request, Request, str]:
        """``request`` as stored, as redacted, and its key. A repeated live request (same method, URL,
        kept headers and body, up to 64 KiB) is looked up, not parsed, redacted and hashed again: a test
        suite repeats its requests, and keying one costs ~10 µs. Only without a request hook (a hook may
        change a request), and bounded."""
        if isinstance(request, Request) or len(request.content) > _MEMO_BODY:
            stored = stored_form(request, self.key_options.match_headers)
            redacted = self.redaction.request(stored)
            return stored, redacted, key_of(redacted, self.key_options)
        memo = identity(request, self._names)
        found = self._memo.get(memo)
        if found is None:
            found = self._keyed(to_record(request, self.key_options.match_headers))
            if len(self._memo) >= _MEMO_SIZE:
                self._memo.clear()
            self._memo[memo] = found
        return found

    def _log(self, sent: Sent) -> Sent:
        """Add to `requests`, which keeps the last `REQUESTS_KEPT` (a long-lived transport in a loop)."""
        with self._lock:
            self._keep(sent)
        return sent

    def _keep(self, sent: Sent) -> None:
        """`_log` with the lock held."""
        self.requests.append(sent)
        if len(self.requests) > REQUESTS_KEPT:
            del self.requests[: REQUESTS_KEPT // 2]

    def _decide(self, request: Request, key: str) -> Play | Record:
        __tracebackhide__ = hidden_in_a_miss
        with self._lock:
            key = aliased(self._aliases, self.store, key, request) if self.mode == "record-missing" else key
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
            about = Later(f"the request {request.method} {request.url}")
            if findings := self.scanner.scan_struct(pending.request, "$.request"):
                raise refusal(self.path, str(about), findings)
            writable_request(pending.request, self.path, about)
            if not self._directory_made:
                make_directory(self.path)
                self._directory_made = True
            if (source := self.redirects.named(request.url)) is not None:  # a file's, not the code's
                raise forward_refused(self.path, shown(f"{request.method} {request.url}"), shown(source))
            pending.slots.append(None)
            return Record(key, request, nth - len(pending.kept))

    def replay_from_memory(self, request: Request | LiveRequest) -> Play | None:
        """In replay mode, the `Play` for ``request`` when it needs nothing from the disk (its response
        was read and prepared already); else None, and nothing is counted: call `plan`. Async callers use
        it to keep the common case off the worker thread `plan` runs in."""
        if self.mode != "replay" or self.config.before_record_request is not None or self._judged:
            # A hook may change the request or let it through, and a match_on function judges every
            # request, however often its key was played: `plan` runs them.
            return None
        stored, _, key = self._keyed(request)
        with self._lock:
            recorded = self.store.known(key)
            nth = self._seen.get(key, 0)
            count = len(recorded.responses) if recorded is not None else 0
            if count == 0 or (nth >= count and self.strict_repeats):
                return None  # `plan` raises the miss, with its diagnosis
            index = min(nth, count - 1)
            prepared = self._prepared.get((key, index))
            if prepared is None:
                return None
            self._seen[key] = nth + 1
            self.played.append((key, index))
            self._keep(Sent(stored, "replayed"))
            return Play(key, index, prepared)

    def _start(self, key: str, request: Request) -> Recording:
        """This session's first touch of ``key``: what its file holds now, to replay first or to drop."""
        if self.mode == "record-missing":
            found = self.store.read_fresh(key, request) or self.store.get(key)  # get: a renamed file too
            refused = self._judged and found and refusing_matcher(self.match_on, found.request, request)
            if found is not None and (self._expired(found) or refused):  # recorded again, replacing it
                return Recording(request, kept=[], stale=list(found.responses))
            return Recording(request, kept=list(found.responses) if found else [], stale=[])
        found = self.store.read_fresh(key, request, replace_broken=True)
        return Recording(request, kept=[], stale=list(found.responses) if found else [])

    def _play(self, key: str, request: Request, nth: int, responses: list[Response] | None = None) -> Play:
        __tracebackhide__ = hidden_in_a_miss
        if responses is None:
            recorded = self.store.get(key, request)
            if recorded is None:  # a file recorded before secret headers were hashed slowly?
                key, recorded = legacy_file(self.store, key, request)
            responses = recorded.responses if recorded is not None else []
            if recorded is not None:
                self._check_match(key, request, recorded)
                self._check_age(key, recorded)
        if not responses:
            raise self._miss(key, request, self.store.absent_reason(key))
        count = len(responses)
        if nth >= count and self.strict_repeats:
            raise self._miss(key, request, f"all {count} recorded responses were already played", count)
        index = min(nth, count - 1)
        prepared = self._prepared.get((key, index))
        if prepared is None:
            prepared = self._prepared[(key, index)] = prepared_response(
                self, key, index, responses[index], request
            )
        if self.mode == "record-missing":
            self.redirects.replayed(request.url, prepared.status, prepared.headers)
        self.played.append((key, index))
        return Play(key, index, prepared)

    def _check_match(self, key: str, request: Request, recorded: CassetteFile) -> None:
        __tracebackhide__ = hidden_in_a_miss
        file = self.store.file_of(key) or self.path
        refused = refusing_matcher(self.match_on, recorded.request, request, file, identical_is_a_miss=True)
        if refused is not None:
            raise self._miss(key, request, f"the match_on function {refused} refused the recording")

    def _expired(self, recorded: CassetteFile) -> bool:
        return expired(
            recorded.meta.recorded_at, None if self.config.max_age is None else float(self.config.max_age)
        )

    def _check_age(self, key: str, recorded: CassetteFile) -> None:
        """Warn (or, with ``strict_age``, fail) once per file when it is older than ``max_age``."""
        if key in self._aged or not self._expired(recorded):
            return
        self._aged.add(key)
        file = self.store.file_of(key) or self.path
        text = too_old(file, recorded.meta.recorded_at, float(self.config.max_age or 0))
        if self.config.strict_age:
            raise CassetteExpired(text)
        warnings.warn(CassetteAgeWarning(text), stacklevel=2)

    def _miss(self, key: str, request: Request, reason: str, played: int = 0) -> Exception:
        from httpx_cassette.storage.missing import miss  # the diagnosis loads at the first miss

        return miss(self, key, request, reason, played)

    @property
    def events_as_json(self) -> bool:
        """Whether a recorded stream's events may be held as their JSON text (`msgspec.Raw`): nothing
        needs them as objects (no ``before_record_response`` hook, no redaction rule, our file format)."""
        return (
            self.config.before_record_response is None
            and not self.redaction
            and self.store.write_format == "ours"
        )

    def save(
        self, plan: Record, response: Response, meta: Meta | None = None, *, walked: Strings | None = None
    ) -> None:
        """Store the ``response`` a `Record` plan got in its slot, and merge it into the key's file as it
        is on disk now; ``meta`` (copied, stamped with the time) describes the recorder; ``walked``: the
        distinct strings of its stream's events, when its capture already walked them.

        Raises `CassetteSecretError`, writing nothing, if the (redacted) response holds a credential.
        """
        if plan.slot is None:
            return
        recording = self._pending[plan.key]
        request = recording.request
        about = Later(f"the response to {request.method} {request.url}")
        if walked is None and (events := response.events()):
            walked = of_events(events)  # one walk of a long stream, for the echo check, redaction, the scan
        echoed = scrubbed(response, plan.secrets, walked)  # what the request carried, sent back
        hooked = call_hook("before_record_response", self.config.before_record_response, echoed, about)
        if hooked is None:  # the hook left it out: nothing is written
            return
        stream = hooked.events()
        if hooked is not response or not stream or self.config.before_record_response is not None:
            walked = None  # a hook may have changed the events in place
        if walked is None and stream:
            walked = of_events(stream)  # one walk of a long stream, for both redaction and the scan
        try:
            response = self.redaction.response(hooked, walked)
        except PlaceholderClash as clash:
            raise placeholder_clash(self.path, shown(f"{request.method} {request.url}"), clash) from None
        refuse_unhidden(response, self.redaction.placeholders.hiding)  # what hiding could not reach
        meta = meta or Meta()
        meta = msgspec.structs.replace(meta, user_agent=self.redaction.meta(meta.user_agent))
        if self.scope is not None:  # a copy: the caller's response is not ours to change
            response = msgspec.structs.replace(response, test_id=self.scope)
        response = sealed(response, plan.key, self.redaction.placeholders.secrets)  # `core.seal`
        if response.body is not hooked.body:  # redaction changed the events: walk what is written
            walked = None
        at = f"$.responses[{len(recording.kept) + plan.slot}]"
        if findings := self.scanner.scan_struct(response, at, walked):
            raise refusal(self.path, str(about), findings)
        writable_response(response, at, request.method, self.path, about)  # a file that loads again
        if findings := self.scanner.scan(builtins(meta), "$.meta"):  # all that is written is checked
            raise refusal(self.path, shown(f"the User-Agent of {request.method} {request.url}"), findings)
        with self._lock:
            recording.slots[plan.slot] = response
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            stamped = msgspec.structs.replace(meta, recorded_at=now)
            written: list[int] = []

            def merged(current: CassetteFile | None) -> CassetteFile:
                responses, written[:] = recording.merge(current.responses if current else [])
                return CassetteFile(request=recording.request, responses=responses, meta=stamped)

            replace_broken = self.mode == "record"
            stored = self.store.update(plan.key, recording.request, merged, replace_broken=replace_broken)
            recording.wrote(stored.responses, written)
            index = len(stored.responses) - len(written) + written.index(plan.slot)
            self.recorded.append((plan.key, index))
            self._prepared.pop((plan.key, index), None)

    def unused(self) -> list[Path]:
        """Files of this cassette that no request of this session used."""
        used = {key for key, _ in self.played.pairs} | {key for key, _ in self.recorded}
        return sorted(file for key, file, _ in self.store.items() if key not in used)

    def all_recorded(self) -> list[tuple[str, CassetteFile]]:
        """Every (key, file contents) in the directory."""
        return [(key, cassette) for key, _, cassette in self.store.items()]
