"""pytest plugin (registered through the ``pytest11`` entry point): a cassette for each test.

Usage::

    @pytest.mark.cassette                       # this test's own cassette, replayed
    def test_weather(): openai.OpenAI().chat.completions.create(...)

    def test_chat(cassette):                    # the fixture: the same, plus the CassetteSession
        ...
        assert not cassette.unused()

    @pytest.mark.cassette("shared-chat", mode="record-missing", ignore_hosts=["auth.local"])
    def test_other(): ...

Every httpx, httpx2, requests and aiohttp request the test makes (any client, SDK default clients
included, any thread) goes through the cassette, see `httpx_cassette.intercept.routes`. Marker
options: a path (relative paths are inside the module's cassette folder) and ``mode``,
``ignore_hosts``, ``ignore_localhost``, ``include_host``, ``ignore_json_paths``, ``match_headers``,
``strict_repeats``, ``replay_timing``, ``replay_chunks``, ``unused``. A class-level marker applies to
its methods; the closest marker wins per option.

Where cassettes live: ``<test file dir>/cassettes/<module>/<test>``, where ``<test>`` is the test
function name, ``Class.name`` for methods, and ``-<id>`` appended for parametrized tests (ids are
made filesystem-safe; ids that had to change or are long get a short hash, so they stay distinct).
The ``cassette_dir`` ini option changes ``cassettes``; an absolute value (or ``--cassette-dir``,
relative to the current directory) is one folder for the whole suite, holding
``<test file dir relative to rootdir>/<module>/<test>``.

Mode (first match wins): ``--cassette-mode`` (or ``--record-mode``), ``$HTTPX_CASSETTE_MODE``, the
marker's ``mode=``, the ``cassette_config`` fixture, the ``cassette_mode`` ini option, else ``replay``
(`httpx_cassette.pytest_plugin.config_fixture`). vcrpy's record modes are accepted as aliases:

- ``none`` → ``replay``: never record; a request with no recording fails;
- ``once`` → ``replay`` when the test's cassette directory has recordings, else ``record``;
- ``new_episodes`` → ``record-missing``: replay what is recorded, record the rest;
- ``all`` → ``record``: record every request again (files no request touches stay);
- ``rewrite`` → ``record`` into an emptied directory (recordings older than this pytest run are
  removed first, so tests sharing a cassette keep each other's new ones).

Command line options and ini options (in ``[tool.pytest.ini_options]``):

``--cassette-mode MODE`` / ``cassette_mode``
    As above.
``--cassette-dir=DIR`` / ``cassette_dir`` (default ``cassettes``)
    As above. Prefer ``--cassette-dir=DIR``: pytest looks for its rootdir before plugins are
    loaded, and may take a separate ``DIR`` argument for a test path while doing so.
``--cassette-block-network`` / ``cassette_block_network``
    Any request not served from a cassette (replayed, or recorded in a record mode)
    fails with `NetworkBlocked`, in every test, with or without a cassette; only hosts let through
    with ``cassette_ignore_hosts`` / ``cassette_ignore_localhost`` (or a marker's) pass. Live mode
    is refused. (aiohttp and requests are seen too; raw sockets are not: pytest-socket blocks those.)
``cassette_ignore_hosts`` (list), ``cassette_ignore_localhost`` (bool)
    Hosts whose requests pass through every cassette untouched.
``cassette_ignore`` (lines of ``METHOD HOST PATH [empty|pass]``, globs)
    Ignore rules for every cassette, before a marker's ``ignore=``: matching requests (telemetry) are
    never recorded or replayed; in replay they get an empty 204 (``empty``) or go out (``pass``).
    Under ``--cassette-block-network`` the same rules hold for tests without a cassette.
``cassette_ignore_defaults`` (bool, default true)
    Also ignore the known telemetry endpoints (``httpx_cassette.core.ignore.TELEMETRY``); a
    marker's ``ignore_defaults=`` decides for its test.
``cassette_unused`` = ``warn`` (default) | ``fail`` | ``ignore``
    In replay mode, a test that passed without using every recording of its cassette warns
    (`CassetteUnusedWarning`) or fails at teardown; a marker's ``unused=`` overrides it. A cassette
    given a path in the marker (or a ``@pytest.mark.default_cassette`` name) may be shared by several
    tests, so it is checked only when that marker sets ``unused=``; a ``vcr``-marked test's own
    cassette is checked.
``cassette_caught_errors`` = ``fail`` (default) | ``pass``
    A test that passed although the code under test caught a replay miss or a blocked request (an
    SDK wrapped it, a fallback swallowed it, ``pytest.raises`` expected it) fails by default, so a
    fallback never hides a missing recording; ``pass`` lets such a test pass as it says (what
    pytest-recording does); a marker's ``caught_errors=`` overrides it.
``--cassette-keep-failed``
    By default a test that fails in a record mode leaves its cassette as it was before the test
    (what it wrote is removed or restored); with this option the partial recording stays.
``--cassette-prune``
    Delete the cassette directories no test used (the session summary always lists them). Only
    folders named like a test (by ``python_functions``) inside the cassette folder of a module
    collected in full, whose test no longer exists (renamed, deleted, a parameter gone; a test
    deselected, or dropped by a plugin, still exists), and the
    folders of test modules that no longer exist, are considered; folders opened at run time
    (``use_cassette``) are kept. Under pytest-xdist the workers' findings are combined first; if a
    worker crashed, or the run was interrupted, nothing is deleted.
``--cassette-report PATH``
    Write the usage report the CLI's ``prune --used-by PATH`` reads, a JSON object::

        {
          "version": 1,
          "complete": true,
          "not_run": 0,
          "used": ["cassettes/test_chat/test_stream/post-chat-completions-0123456789ab.json", ...],
          "directories": ["cassettes/test_chat/test_stream", ...],
          "unused_directories": ["cassettes/test_chat/test_renamed", ...],
          "kept": []
        }

    ``used``: every cassette JSON file some request played or recorded, in any test, through this
    plugin or ``use_cassette`` (a file's ``<stem>.<n>.bin`` body files belong to it);
    ``directories``: every cassette directory a test opened; ``unused_directories``: what
    ``--cassette-prune`` deletes; ``kept``: the folders of the tests with a cassette (the marker, the
    fixture, a ``vcr`` marker, ``@use_cassette``) that did not run to a pass, which prune leaves alone
    (`httpx_cassette.pytest_plugin.runs`). Paths are POSIX and relative to the report's own folder;
    lists are sorted. ``not_run`` counts the collected tests with a cassette that did not run to
    their end (deselected by ``-k``, ``-m`` or ``--lf``, skipped, failed in setup, not reached after
    ``-x``): their folders are in ``kept``. ``complete`` is false when a worker crashed, the run was
    interrupted or a path had to be masked: ``used`` may then miss files in use, and prune refuses it.

A replay miss fails its test with the `CassetteMiss` message, also when an SDK wrapped the miss
into an error of its own or the code under test swallowed it.
"""

from __future__ import annotations

import contextlib
import time
import warnings
import weakref
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette.core.modes import RECORDING, alias_note
from httpx_cassette.core.shown import printable
from httpx_cassette.errors import CassetteError
from httpx_cassette.intercept.routes import TABLE, process_route, session_listener
from httpx_cassette.intercept.session import CassetteSession, HostFilter, NetworkBlock, surfaced_miss
from httpx_cassette.pytest_plugin import options, vcr_compat, vcr_fixtures
from httpx_cassette.pytest_plugin.cassette import (
    STATE,
    RunState,
    open_session,
    rebuilt,
    swallowed,
    unused_message,
)
from httpx_cassette.pytest_plugin.config_fixture import cassette_config, fixture_layer
from httpx_cassette.pytest_plugin.marker import (
    MARKER,
    asks_for_cassette,
    caught_policy,
    marker_options,
    unused_policy,
)
from httpx_cassette.pytest_plugin.runs import Runs
from httpx_cassette.pytest_plugin.settings import Settings
from httpx_cassette.pytest_plugin.stale import stale_folders
from httpx_cassette.pytest_plugin.usage import Usage, summary_title
from httpx_cassette.pytest_plugin.vcr_config import over_base

__all__ = ["CassetteUnusedWarning", "cassette", "cassette_config"]

PLUGIN = "httpx_cassette_state"
OUTPUT = "httpx_cassette"  # key in xdist's workeroutput


class CassetteUnusedWarning(pytest.PytestWarning):
    """A test passed in replay mode without using every recording of its cassette."""


# -- registration ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    options.register(parser)
    if vcr_compat.names_owner(pluginmanager) is None and vcr_compat.add_options(parser):
        _VCR_PARSERS.add(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(path=None, *, mode=None, ...): serve this test's HTTP requests from a cassette",
    )
    config.pluginmanager.register(CassettePlugin(config), PLUGIN)
    if _vcr_names(config) is None:
        for line in vcr_compat.MARKERS:
            config.addinivalue_line("markers", line)
        config.pluginmanager.register(vcr_fixtures, "httpx_cassette_vcr")


_VCR_PARSERS: weakref.WeakSet[pytest.Parser] = weakref.WeakSet()  # the runs we added the options to


def _vcr_names(config: pytest.Config) -> str | None:
    """None when this plugin has pytest-recording's names, else the plugin that has them."""
    if getattr(config, "_parser", None) in _VCR_PARSERS:
        return None
    return vcr_compat.names_owner(config.pluginmanager) or "another plugin"


@pytest.fixture(autouse=True)
def _httpx_cassette(request: pytest.FixtureRequest) -> Iterator[CassetteSession | None]:
    """Opens the test's cassette when it has the marker or asks for the ``cassette`` fixture."""
    plugin: CassettePlugin = request.config.pluginmanager.getplugin(PLUGIN)
    yield from plugin.run_test(request)


@pytest.fixture
def cassette(_httpx_cassette: CassetteSession | None) -> CassetteSession | None:
    """This test's `CassetteSession`: ``played``, ``recorded``, ``unused()``, ``misses``, ``passed``."""
    return _httpx_cassette  # None only when another plugin's autouse fixture of this name asked


# -- the plugin ------------------------------------------------------------------------------------

_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


class CassettePlugin:
    """The plugin's state for one pytest run (one ``Config``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.owner = _vcr_names(config)  # who has pytest-recording's names: None when we do
        self.vcr_names = self.owner is None
        self.settings = Settings.of(config, vcr_names=self.vcr_names)
        self.blocker: NetworkBlock | None = None
        self.usage = Usage()
        self.runs = Runs(self.usage, self.settings, vcr_names=self.vcr_names)
        config.pluginmanager.register(self.runs, "httpx_cassette_runs")
        self.deselected: list[pytest.Item] = []
        self.unused: list[Path] = []
        self.pruned = False
        self.workers_seen = 0
        self.started = time.time()
        self._stack = contextlib.ExitStack()

    # -- session ---------------------------------------------------------------------------------

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        # rewrite keeps what this run recorded (xdist workers all start before any test runs)
        self.started = time.time()
        self._stack.enter_context(session_listener(self._track))
        if self.settings.block_network:
            settings = self.settings
            hosts = HostFilter(settings.ignore_hosts, settings.ignore_localhost, settings.allowed_hosts)
            self.blocker = NetworkBlock(hosts, settings.block_source, settings.ignore_rules())
            self._stack.enter_context(process_route(self.blocker))
            self._stack.enter_context(self.blocker.blocking(TABLE.stack))  # in every thread too

    def pytest_unconfigure(self) -> None:
        self._stack.close()

    def pytest_report_header(self) -> list[str]:
        mode, source = self.settings.default_mode()
        block = ", network blocked" if self.settings.block_network else ""
        line = f"{mode}{alias_note(mode)} from {source}{block}"
        return [f"httpx_cassette: mode {line}" if self.owner is None else vcr_compat.header(self.owner, line)]

    def _track(self, session: CassetteSession) -> None:
        self.usage.track(session, files=self.settings.report is not None, test=self.runs.current)

    # -- collection: which folders some test owns --------------------------------------------------

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected.extend(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        functions = self.runs.functions(session.items, self.deselected)
        invoked = self.config.invocation_params.dir
        stale = stale_folders(functions, self.settings, self.config.args, invoked)
        self.usage.candidates = {folder.resolve().as_posix() for folder in stale}
        roots = {self.settings.layout.cassette_root(item.path.parent) for item in functions}
        self.usage.roots = {root.resolve().as_posix() for root in roots}

    # -- one test ----------------------------------------------------------------------------------

    def run_test(self, request: pytest.FixtureRequest) -> Iterator[CassetteSession | None]:
        item = request.node
        blocked_before = len(self.blocker.blocked) if self.blocker else 0
        layers = self._layers(request) if isinstance(item, pytest.Function) else None
        if layers is None:
            item.stash[STATE] = RunState(None, blocked_before, caught=self.settings.caught)
            leave = self.blocker and self.owner and item.get_closest_marker("vcr")  # the owner's test
            with process_route(vcr_compat.PassThrough()) if leave else contextlib.nullcontext():
                yield None
            return
        options, fixture = layers
        session, extras, spec = self._open(item, options, fixture)
        caught = self._caught(item, options)
        state = item.stash[STATE] = RunState(session, blocked_before, spec=spec, caught=caught)
        with process_route(vcr_compat.WithExtras(session, extras) if extras else session):
            yield session
        self._close(item, state, session, unused_policy(options, self.settings.unused))

    def _layers(self, request: pytest.FixtureRequest) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """(marker options, fixture options) of a test that gets a cassette; else None."""
        item = request.node
        try:
            options = marker_options(item)
            vcr = None
            if options is None and self.vcr_names and not self.settings.disable_recording:
                vcr = vcr_compat.vcr_layers(request)
            if options is None and vcr is None and not asks_for_cassette(item):
                return None
            marker, fixture = vcr or (options or {}, {})
            base = fixture_layer(request.getfixturevalue("cassette_config"))
            return (over_base(marker, base) if vcr else marker), {**base, **fixture}
        except CassetteError as exc:
            failure = f"{item.nodeid}: {exc}"
        pytest.fail(failure, pytrace=False)  # outside the except: the error is shown once

    def _caught(self, item: pytest.Function, options: dict[str, Any]) -> str:
        try:
            return caught_policy(options, self.settings.caught)
        except CassetteError as exc:
            failure = f"{item.nodeid}: {exc}"
        pytest.fail(failure, pytrace=False)

    def _open(
        self, item: pytest.Function, options: dict[str, Any], fixture: dict[str, Any]
    ) -> tuple[CassetteSession, list[CassetteSession], str]:
        path = self.settings.layout.cassette_of(item, options.get("path"))
        try:  # a CIRecordingError too: that test fails, the others run
            session, spec = open_session(self.settings, path, options, self.started, fixture)
            replay = session.cassette.config.override(mode="replay")
            return session, [CassetteSession(extra, replay) for extra in options.get("extras", ())], spec
        except CassetteError as exc:
            failure = f"{item.nodeid}: {exc}"
        pytest.fail(failure, pytrace=False)

    def _close(self, item: pytest.Function, state: RunState, session: CassetteSession, unused: str) -> None:
        reports = item.stash.get(_REPORTS, {})
        failed = any(r.failed or hasattr(r, "wasxfail") for r in reports.values())
        if failed and session.mode in RECORDING and not self.settings.keep_failed:
            session.rollback()
        self._track(session)
        if failed:
            return
        errors = state.errors(self.blocker)
        if errors and not state.reported and state.caught == "fail":
            pytest.fail(swallowed(errors), pytrace=False)
        message = unused_message(session, unused, self.settings.layout.shown)
        if message is not None and unused == "fail":
            pytest.fail(message, pytrace=False)
        if message is not None:
            warnings.warn(CassetteUnusedWarning(message), stacklevel=1)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        state = item.stash.get(STATE, None)
        try:
            result = yield
        except BaseException as exc:
            miss = surfaced_miss(exc, state.errors(self.blocker)) if state else None
            if miss is None:
                raise
            assert state is not None
            state.reported = True
            raise miss from exc
        if state is not None and state.caught == "fail" and state.errors(self.blocker):
            state.reported = True
            raise rebuilt(state.errors(self.blocker))
        return result

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        item.stash.setdefault(_REPORTS, {})[report.when] = report
        return report

    # -- the end: unused directories, prune, report --------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        output = getattr(node, "workeroutput", {}).get(OUTPUT)
        if output is None or error is not None:
            self.usage.complete = False
        if output is not None:
            self.workers_seen += 1
            self.usage.merge(output)

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus in (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR):
            self.usage.complete = False
        if hasattr(self.config, "workerinput"):  # an xdist worker: the controller decides
            workeroutput: dict[str, Any] = getattr(self.config, "workeroutput")  # noqa: B009 - set by xdist
            workeroutput[OUTPUT] = self.usage.as_json()
            return
        if self.config.pluginmanager.has_plugin("dsession") and not self.workers_seen:
            return  # xdist controller whose workers reported nothing
        self.unused = self.usage.unused_directories()
        if self.settings.prune and self.usage.complete:
            self.usage.prune(self.unused)
            self.pruned = True
        if self.settings.report is not None:
            self.usage.write_report(self.settings.report, self.unused)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.unused:
            return
        title = summary_title(len(self.unused), pruned=self.pruned, prune=self.settings.prune)
        terminalreporter.write_sep("-", title)
        for folder in self.unused:
            terminalreporter.write_line(f"  {printable(self.settings.layout.shown(folder))}")  # a PR's names
