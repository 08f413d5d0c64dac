"""A cassette serving intercepted traffic, and a record of what happened to it.

`CassetteSession` is what ``use_cassette`` yields and what the pytest plugin's ``cassette`` fixture
returns; it works without pytest. It decides per request whether the cassette handles it or it
passes through (``ignore_hosts``, ``ignore_localhost``), remembers replay misses (so a miss an SDK
wrapped or swallowed can still be reported), and can undo what it wrote (``rollback``), which the
plugin does for a test that failed while recording.

`NetworkBlock` (`httpx_cassette.intercept.block`) is the route the plugin installs under
``--cassette-block-network``: every request no cassette serves fails where it would reach the network
(`httpx_cassette.http.guard`). Both are routes (`httpx_cassette.http.hooks.Route`): objects with
``send(request, forward)`` and ``send_async(request, forward)`` for httpx clients, ``begin(request)``
for the aiohttp and requests shells, and ``admit(request)`` for what no cassette can hold (an aiohttp
websocket handshake, never recorded): a session lets it out where it would let an HTTP request out
untouched (``ignore_hosts``, ``ignore_localhost``, a ``pass`` ignore rule) and otherwise leaves it to
the routes beneath; the blocker refuses it with `NetworkBlocked`, in its ``blocked`` list like any
request it refuses, unless its hosts (or a ``pass`` rule) let it through.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from httpx_cassette.config import CassetteConfig, Overrides
from httpx_cassette.core.ignore import IgnoreRules
from httpx_cassette.core.modes import Mode
from httpx_cassette.core.request import LiveRequest, to_record
from httpx_cassette.core.sent import PlayLog, Sent
from httpx_cassette.errors import CassetteError, CassetteMiss, NetworkBlocked
from httpx_cassette.http.exchange import EMPTY, Exchange
from httpx_cassette.http.sdk_errors import sdk_proof, sdk_proof_async
from httpx_cassette.http.transport import CassetteTransport
from httpx_cassette.intercept.block import NetworkBlock
from httpx_cassette.intercept.hosts import HostFilter, describe, lets_out
from httpx_cassette.storage.files import cassette_files, is_side_file, side_files, write_atomic

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "CassetteSession",
    "HostFilter",
    "NetworkBlock",
    "NetworkBlocked",
    "describe",
    "lets_out",
    "surfaced_miss",
]


def surfaced_miss(exc: BaseException | None, errors: Sequence[CassetteError]) -> CassetteError | None:
    """A fresh copy of the miss in ``errors`` that ``exc`` wraps, to raise from ``exc``; else None.

    SDKs may catch a miss (or a blocked request) and raise their own error, hiding the message that
    says how to record. None when ``exc`` is itself one of ``errors`` or wraps none of them.
    """
    if exc is None or any(exc is error for error in errors):
        return None
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, CassetteError) and any(cause is error for error in errors):
            text = f"{cause}\n  the caller saw it as {_qualname(type(exc))}: {exc}"
            return CassetteMiss(text, cause.details) if isinstance(cause, CassetteMiss) else type(cause)(text)
        cause = cause.__cause__ or cause.__context__
    return None


def _qualname(cls: type) -> str:
    module = cls.__module__
    return cls.__qualname__ if module == "builtins" else f"{module}.{cls.__qualname__}"


class CassetteSession:
    """One cassette serving the requests `use_cassette` (or the pytest plugin) intercepts.

    What happened is on the object: ``played`` and ``recorded`` are ``(key, response index)`` pairs
    in order, ``unused()`` lists the files no request used, ``misses`` holds every `CassetteMiss`
    raised (even if the caller swallowed it), ``passed`` the requests that went through untouched,
    ``ignored`` those an ignore rule (telemetry) kept out of the cassette, and ``other_threads`` how
    many requests each other thread sent (`report` sums it all up).
    ``fresh_since`` (a ``time.time()``) first removes the recordings written before then (vcrpy's
    ``rewrite``: a cassette several tests of one run share keeps what the earlier ones recorded);
    ``backup=True`` keeps the directory's files in memory so that `rollback` can restore them.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        config: CassetteConfig | None = None,
        *,
        fresh_since: float | None = None,
        backup: bool = False,
        **overrides: Unpack[Overrides],
    ) -> None:
        config = CassetteConfig.of(config, **overrides)
        self.transport = CassetteTransport(path, config=config)
        self.cassette = self.transport.cassette
        self.filter = HostFilter(config.ignore_hosts, config.ignore_localhost)
        self.ignore = IgnoreRules.of(config)
        self.misses: list[CassetteMiss] = []
        self.passed: list[str] = []
        self.ignored: list[str] = []
        self.thread = threading.get_ident()  # the thread that opened the session
        self.other_threads: Counter[str] = Counter()  # thread name -> requests it sent
        self._existed = self.path.is_dir()
        self._backup = _read_files(self.path) if backup else None
        if fresh_since is not None:
            for file in cassette_files(self.path, bodies=True):
                if file.stat().st_mtime < fresh_since:
                    file.unlink()

    def __repr__(self) -> str:
        others = sum(self.other_threads.values())
        threads = f", {_requests(others)} from other threads" if others else ""
        return f"CassetteSession({str(self.path)!r}, mode={self.mode!r}{threads})"

    def report(self) -> str:
        """What happened, in one paragraph: what was played, recorded, missed, passed and ignored,
        and how many requests came from threads other than the one that opened the session (an SDK's
        background thread is served by the most recently opened block; see docs/guides/scripts.md)."""
        lines = [
            f"cassette {self.path} ({self.mode}): {self.played.total} played, {len(self.recorded)} recorded,"
            f" {len(self.misses)} missed, {len(self.passed)} passed through, {len(self.ignored)} ignored"
        ]
        if self.other_threads:
            names = ", ".join(f"{name} ({n})" for name, n in self.other_threads.most_common())
            lines.append(f"  {_requests(sum(self.other_threads.values()))} from other threads: {names}")
        lines += [f"  ignored: {request}" for request in self.ignored]
        return "\n".join(lines)

    @property
    def path(self) -> Path:
        return self.cassette.path

    @property
    def mode(self) -> Mode:
        return self.cassette.mode

    @property
    def played(self) -> PlayLog:
        return self.cassette.played

    @property
    def recorded(self) -> list[tuple[str, int]]:
        return self.cassette.recorded

    def unused(self) -> list[Path]:
        """Files of the cassette that no request of this session played or recorded."""
        return self.cassette.unused()

    @property
    def requests(self) -> list[Sent]:
        """Every request the code sent through this cassette, in order, with ``status`` (replayed,
        recorded, missed, passed), ``method``, ``url``, ``headers`` and ``json()``."""
        return self.cassette.requests

    def _passed(self, request: Any) -> None:
        """Log a request that went through untouched (its body has been read)."""
        self.cassette.requests.append(Sent(to_record(request), "passed"))

    def used_files(self) -> list[Path]:
        """Files of the cassette that some request of this session played or recorded."""
        used = {key for key, _ in self.played.pairs} | {key for key, _ in self.recorded}
        return sorted(file for key, file, _ in self.cassette.store.items() if key in used)

    # -- the route -----------------------------------------------------------------------------

    @sdk_proof
    def send(self, request: Any, forward: Callable[[Any], Any]) -> Any:
        __tracebackhide__ = True
        decision = self._decide(request)
        if decision is False:
            request.read()
            self._passed(request)
            return forward(request)
        if decision is True:
            request.read()
            decision = self._planned(request)
        return self.transport.serve(request, decision, forward)

    @sdk_proof_async
    async def send_async(self, request: Any, forward: Callable[[Any], Awaitable[Any]]) -> Any:
        __tracebackhide__ = True
        decision = self._decide(request)
        if decision is False:
            await request.aread()
            self._passed(request)
            return await forward(request)
        if decision is True:
            await request.aread()
            decision = self._planned(request)
        return await self.transport.serve_async(request, decision, forward)

    def begin(self, request: LiveRequest) -> Exchange | None:
        """The route's entry for the aiohttp and requests shells (``request`` an `Outgoing`)."""
        __tracebackhide__ = True
        decision = self._decide(request)
        if decision is False:
            self._passed(request)
            return None
        return self._planned(request) if decision is True else decision

    def admit(self, request: LiveRequest) -> bool:
        """What no cassette can hold (a websocket handshake): True when this session lets it out
        untouched as it would an HTTP request (``ignore_hosts``, ``ignore_localhost``, a ``pass`` ignore
        rule); else False: the routes beneath decide (the network block, if any)."""
        return lets_out(self.filter, self.ignore, request)

    def _decide(self, request: Any) -> Exchange | bool:
        """False: pass ``request`` through untouched; True: the cassette serves it; an `Exchange`:
        answered here (an ignore rule in replay)."""
        if threading.get_ident() != self.thread:
            self.other_threads[threading.current_thread().name] += 1
        if self.filter and self.filter.passes(request):
            self.passed.append(describe(request))
            return False
        rule = self.ignore.match(request.method, str(request.url.host), str(request.url.path))
        if rule is None:
            return True
        self.ignored.append(describe(request))
        return Exchange.answered(EMPTY) if self.mode == "replay" and rule.answer == "empty" else False

    def _planned(self, request: Any) -> Exchange:
        try:
            return self.transport.exchange(request)
        except CassetteMiss as miss:
            self.misses.append(miss)
            raise

    # -- undoing a recording -------------------------------------------------------------------

    def rollback(self) -> list[Path]:
        """Put the directory back as it was before this session wrote to it; returns files touched.

        Only files this session wrote (or removed, with ``fresh_since``) are touched, so other sessions
        recording into the same directory at the same time keep theirs. Needs ``backup=True``.
        """
        if self._backup is None:
            raise CassetteError(f"cannot roll back cassette {self.path}: it was opened without backup=True")
        touched: set[Path] = set()
        for file in self.cassette.store.written:
            # the JSON file and its side files (<stem>.<n>.bin) written next to it
            siblings = (old for old in self._backup if old.parent == file.parent)
            touched |= {file, *side_files(file), *(old for old in siblings if is_side_file(old.name, file))}
        touched |= {file for file in self._backup if not file.exists()}  # removed by fresh_since
        for file in sorted(touched):
            previous = self._backup.get(file)
            if previous is None:
                file.unlink(missing_ok=True)
            else:
                write_atomic(file, previous)
        self.cassette.store.written.clear()
        if not self._existed:
            _remove_if_only_dotfiles(self.path)  # a lock file may be left in a folder we created
        return sorted(touched)


def _requests(count: int) -> str:
    return f"{count} request" if count == 1 else f"{count} requests"


def _remove_if_only_dotfiles(folder: Path) -> None:
    with contextlib.suppress(OSError):
        left = list(folder.iterdir())
        if all(entry.name.startswith(".") and entry.is_file() for entry in left):
            for entry in left:
                entry.unlink()
            folder.rmdir()


def _read_files(path: Path) -> dict[Path, bytes]:
    # Only regular files: a link's target is never read (nor written back by a rollback).
    return {file: file.read_bytes() for file in cassette_files(path, bodies=True)}
