"""pytest plugin (registered through the ``pytest11`` entry point): a cassette for each test.

Usage::

    @pytest.mark.cassette                       # this test's own cassette, replayed
    def test_weather(): openai.OpenAI().chat.completions.create(...)

    def test_chat(cassette):                    # the fixture: the same, plus the CassetteSession
        ...
        assert not cassette.unused()

    @pytest.mark.cassette("shared-chat", mode="record-missing", ignore_hosts=["auth.local"])
    def test_other(): ...

Every httpx and httpx2 request the test makes (any client, SDK default clients included, any thread)
goes through the cassette, see `httpx_cassette._intercept`. Marker options: a path (relative paths
are inside the module's cassette folder) and ``mode``, ``ignore_hosts``, ``ignore_localhost``,
``include_host``, ``ignore_json_paths``, ``match_headers``, ``strict_repeats``, ``replay_timing``,
``unused``. A class-level marker applies to its methods; the closest marker wins per option.

Where cassettes live: ``<test file dir>/cassettes/<module>/<test>``, where ``<test>`` is the test
function name, ``Class.name`` for methods, and ``-<id>`` appended for parametrized tests (ids are
made filesystem-safe; ids that had to change or are long get a short hash, so they stay distinct).
The ``cassette_dir`` ini option changes ``cassettes``; an absolute value (or ``--cassette-dir``,
relative to the current directory) is one folder for the whole suite, holding
``<test file dir relative to rootdir>/<module>/<test>``.

Mode (the closest wins): the marker's ``mode=``, ``--cassette-mode``, ``$HTTPX_CASSETTE_MODE``, the
``cassette_mode`` ini option, else ``replay``. vcrpy's record modes are accepted as aliases:

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
    Any httpx/httpx2 request not served from a cassette (replayed, or recorded in a record mode)
    fails with `NetworkBlocked`, in every test, with or without a cassette; only hosts let through
    with ``cassette_ignore_hosts`` / ``cassette_ignore_localhost`` (or a marker's) pass. Live mode
    is refused. (Other HTTP libraries and raw sockets are not seen; pytest-socket blocks those.)
``cassette_ignore_hosts`` (list), ``cassette_ignore_localhost`` (bool)
    Hosts whose requests pass through every cassette untouched.
``cassette_unused`` = ``warn`` (default) | ``fail`` | ``ignore``
    In replay mode, a test that passed without using every recording of its cassette warns
    (`CassetteUnusedWarning`) or fails at teardown; a marker's ``unused=`` overrides it. A cassette
    given a path in the marker may be shared by several tests, so it is checked only when that
    marker sets ``unused=``.
``--cassette-keep-failed``
    By default a test that fails in a record mode leaves its cassette as it was before the test
    (what it wrote is removed or restored); with this option the partial recording stays.
``--cassette-prune``
    Delete the cassette directories no test used (the session summary always lists them). Only
    folders named like a test (by ``python_functions``) inside the cassette folder of a module
    collected in full, whose test no longer exists (renamed, deleted, a parameter gone), and the
    folders of test modules that no longer exist, are considered; folders opened at run time
    (``use_cassette``) are kept. Under pytest-xdist the workers' findings are combined first; if a
    worker crashed, or the run was interrupted, nothing is deleted.
``--cassette-report PATH``
    Write the usage report the CLI's ``prune --used-by PATH`` reads, a JSON object::

        {
          "version": 1,
          "complete": true,
          "used": ["cassettes/test_chat/test_stream/post-chat-completions-0123456789ab.json", ...],
          "directories": ["cassettes/test_chat/test_stream", ...],
          "unused_directories": ["cassettes/test_chat/test_renamed", ...]
        }

    ``used``: every cassette JSON file some request played or recorded, in any test, through this
    plugin or ``use_cassette`` (a file's ``<stem>.<n>.bin`` body files belong to it);
    ``directories``: every cassette directory a test opened; ``unused_directories``: what
    ``--cassette-prune`` deletes. Paths are POSIX and relative to the report's own folder; lists
    are sorted. ``complete`` is false when a worker crashed or the run was interrupted: ``used``
    may then miss files that are in use.

A replay miss fails its test with the `CassetteMiss` message, also when an SDK wrapped the miss
into an error of its own or the code under test swallowed it.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import time
import warnings
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._cassette import ENV_MODE, MODES
from ._errors import CassetteError, CassetteMiss
from ._intercept import process_route, session_listener
from ._session import CassetteSession, HostFilter, NetworkBlock, surfaced_miss

__all__ = ["CassetteUnusedWarning", "cassette"]

MARKER = "cassette"
PLUGIN = "httpx_cassette_state"
OUTPUT = "httpx_cassette"  # key in xdist's workeroutput
REPORT_VERSION = 1

ALIASES: dict[str, tuple[str, str]] = {
    "none": ("replay", "never record; a request with no recording fails"),
    "once": ("replay or record", "replay a cassette directory that has recordings, record an empty one"),
    "new_episodes": ("record-missing", "replay what is recorded, record the rest"),
    "all": ("record", "record every request again"),
    "rewrite": ("record", "record into an emptied cassette directory"),
}
UNUSED_POLICIES = ("warn", "fail", "ignore")
SESSION_OPTIONS = (
    "mode",
    "ignore_hosts",
    "ignore_localhost",
    "include_host",
    "ignore_json_paths",
    "match_headers",
    "strict_repeats",
    "replay_timing",
)
MARKER_OPTIONS = ("path", *SESSION_OPTIONS, "unused")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID = 40


class CassetteUnusedWarning(pytest.PytestWarning):
    """A test passed in replay mode without using every recording of its cassette."""


# -- registration ----------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("httpx_cassette", "httpx_cassette: record and replay httpx/httpx2 traffic")
    aliases = ", ".join(f"{alias} = {ALIASES[alias][0]}" for alias in ALIASES)
    group.addoption(
        "--cassette-mode",
        choices=[*MODES, *ALIASES],
        default=None,
        help=f"replay (default), record, record-missing or live; vcrpy's names work too ({aliases};"
        " once records only an empty cassette, rewrite empties it first)",
    )
    group.addoption("--cassette-dir", default=None, metavar="DIR", help="one folder for all cassettes")
    group.addoption(
        "--cassette-block-network",
        action="store_true",
        default=False,
        help="fail any httpx/httpx2 request that is not served from a cassette",
    )
    group.addoption(
        "--cassette-prune",
        action="store_true",
        default=False,
        help="delete cassette directories no test used",
    )
    group.addoption(
        "--cassette-keep-failed",
        action="store_true",
        default=False,
        help="keep what a test that failed in a record mode recorded (default: undo it)",
    )
    group.addoption("--cassette-report", default=None, metavar="PATH", help="write a JSON usage report")
    parser.addini(
        "cassette_dir", "cassette folder beside each test file (absolute: one for all)", default="cassettes"
    )
    parser.addini("cassette_mode", "default cassette mode (--cassette-mode wins)", default="")
    parser.addini("cassette_unused", "replay with unused recordings: warn, fail or ignore", default="warn")
    parser.addini("cassette_ignore_hosts", "hosts that pass through every cassette", type="args", default=[])
    parser.addini("cassette_ignore_localhost", "loopback requests pass through", type="bool", default=False)
    parser.addini("cassette_block_network", "like --cassette-block-network", type="bool", default=False)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cassette(path=None, *, mode=None, ...): serve this test's httpx/httpx2 requests from a cassette",
    )
    config.pluginmanager.register(CassettePlugin(config), PLUGIN)


@pytest.fixture(autouse=True)
def _httpx_cassette(request: pytest.FixtureRequest) -> Iterator[CassetteSession | None]:
    """Opens the test's cassette when it has the marker or asks for the ``cassette`` fixture."""
    plugin: CassettePlugin = request.config.pluginmanager.getplugin(PLUGIN)
    yield from plugin.run_test(request)


@pytest.fixture
def cassette(_httpx_cassette: CassetteSession | None) -> CassetteSession | None:
    """This test's `CassetteSession`: ``played``, ``recorded``, ``unused()``, ``misses``, ``passed``."""
    return _httpx_cassette  # None only when another plugin's autouse fixture of this name asked


def _asks_for_cassette(item: pytest.Function) -> bool:
    """Whether the test, or a fixture it uses, asks for the ``cassette`` fixture.

    Not ``"cassette" in item.fixturenames``: another plugin's autouse fixture of the same name
    (cassetter has one) puts it there for every test.
    """
    info = getattr(item, "_fixtureinfo", None)
    if info is None:  # pragma: no cover - pytest internals changed: fall back to the closure
        return "cassette" in item.fixturenames
    if "cassette" in info.argnames:
        return True
    return any(
        name != "cassette" and defs and "cassette" in defs[-1].argnames
        for name, defs in info.name2fixturedefs.items()
    )


# -- settings --------------------------------------------------------------------------------------


def _mode_spec(value: str, source: str) -> str:
    if value in MODES or value in ALIASES:
        return value
    known = ", ".join([*MODES, *ALIASES])
    raise CassetteError(f"unknown cassette mode {value!r} in {source}: use one of {known}")


@dataclass
class Settings:
    root: Path  # relative: beside each test file; absolute: one folder for the suite
    rootdir: Path
    cli_mode: str | None
    ini_mode: str | None
    unused: str
    ignore_hosts: tuple[str, ...]
    ignore_localhost: bool
    block_network: bool
    keep_failed: bool
    prune: bool
    report: Path | None
    function_patterns: tuple[str, ...]
    module_patterns: tuple[str, ...]

    @classmethod
    def of(cls, config: pytest.Config) -> Settings:
        invoked = config.invocation_params.dir
        cli_dir = config.getoption("cassette_dir")
        root = invoked / cli_dir if cli_dir else Path(str(config.getini("cassette_dir")))
        unused = str(config.getini("cassette_unused"))
        if unused not in UNUSED_POLICIES:
            raise pytest.UsageError(f"cassette_unused = {unused!r}: use one of {', '.join(UNUSED_POLICIES)}")
        cli_mode = config.getoption("cassette_mode")
        ini_mode = str(config.getini("cassette_mode")) or None
        report = config.getoption("cassette_report")
        try:
            ini_mode = _mode_spec(ini_mode, "the cassette_mode ini option") if ini_mode else None
        except CassetteError as exc:
            raise pytest.UsageError(str(exc)) from None
        settings = cls(
            root=root,
            rootdir=config.rootpath,
            cli_mode=cli_mode,
            ini_mode=ini_mode,
            unused=unused,
            ignore_hosts=tuple(config.getini("cassette_ignore_hosts")),
            ignore_localhost=bool(config.getini("cassette_ignore_localhost")),
            block_network=bool(
                config.getoption("cassette_block_network") or config.getini("cassette_block_network")
            ),
            keep_failed=bool(config.getoption("cassette_keep_failed")),
            prune=bool(config.getoption("cassette_prune")),
            report=invoked / report if report else None,
            function_patterns=tuple(config.getini("python_functions")),
            module_patterns=tuple(config.getini("python_files")),
        )
        try:
            settings.default_mode()  # a bad $HTTPX_CASSETTE_MODE is a usage error up front
        except CassetteError as exc:
            raise pytest.UsageError(str(exc)) from None
        if settings.block_network and settings.default_mode()[0] == "live":
            raise pytest.UsageError("--cassette-block-network cannot be combined with cassette mode live")
        return settings

    def default_mode(self) -> tuple[str, str]:
        """The mode tests without ``mode=`` in their marker use, and where it came from."""
        if self.cli_mode:
            return self.cli_mode, "--cassette-mode"
        env = os.environ.get(ENV_MODE)
        if env:
            return _mode_spec(env, f"${ENV_MODE}"), f"${ENV_MODE}"
        if self.ini_mode:
            return self.ini_mode, "cassette_mode ini option"
        return "replay", "default"

    def module_folder(self, module: Path) -> Path:
        """The folder holding the cassettes of test module ``module``."""
        if self.root.is_absolute():
            try:
                return self.root / module.parent.relative_to(self.rootdir) / module.stem
            except ValueError:  # a test file outside rootdir
                return self.root / module.stem
        return module.parent / self.root / module.stem

    def cassette_root(self, directory: Path) -> Path:
        """The folder holding the module folders of the test files in ``directory``."""
        return self.module_folder(directory / "x.py").parent

    def looks_like_test(self, name: str) -> bool:
        function = name.split("-", 1)[0].rsplit(".", 1)[-1]
        return any(function.startswith(p) or fnmatch.fnmatch(function, p) for p in self.function_patterns)

    def looks_like_module(self, name: str) -> bool:
        return any(fnmatch.fnmatch(f"{name}.py", pattern) for pattern in self.module_patterns)

    def shown(self, path: Path) -> str:
        try:
            return path.relative_to(self.rootdir).as_posix()
        except ValueError:
            return path.as_posix()


def safe_id(test_id: str) -> str:
    """A parametrize id as a path component: kept when safe and short, else cleaned plus a hash."""
    safe = _UNSAFE.sub("_", test_id).strip("._-")
    if safe == test_id and len(test_id) <= _MAX_ID:
        return test_id
    digest = hashlib.sha256(test_id.encode()).hexdigest()[:8]
    head = safe[: _MAX_ID - 9].rstrip("._-")
    return f"{head}-{digest}" if head else digest


def folder_name(item: pytest.Function) -> str:
    """``test_name``, ``Class.test_name``, plus ``-<id>`` for a parametrized test."""
    name = item.originalname
    if item.cls is not None:
        name = f"{item.cls.__name__}.{name}"
    callspec = getattr(item, "callspec", None)
    return f"{name}-{safe_id(callspec.id)}" if callspec is not None else name


def _marker_options(item: pytest.Item) -> dict[str, Any] | None:
    """The options of the item's cassette markers, closest first; None without a marker."""
    markers = list(item.iter_markers(MARKER))
    if not markers:
        return None
    options: dict[str, Any] = {}
    for marker in markers:
        if len(marker.args) > 1:
            raise CassetteError(f"@pytest.mark.cassette takes one path, got {marker.args!r}")
        for name, value in [*(("path", arg) for arg in marker.args), *marker.kwargs.items()]:
            if name not in MARKER_OPTIONS:
                known = ", ".join(MARKER_OPTIONS)
                raise CassetteError(f"unknown @pytest.mark.cassette option {name!r}; use {known}")
            options.setdefault(name, value)
    return options


def _has_recordings(path: Path) -> bool:
    return path.is_dir() and any(path.glob("*.json"))


# -- per test --------------------------------------------------------------------------------------

_STATE = pytest.StashKey["_TestState"]()
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@dataclass
class _TestState:
    session: CassetteSession | None
    blocked_before: int
    reported: bool = False


@dataclass
class _Usage:
    """What one process saw; combined across xdist workers by the controller."""

    directories: set[str] = field(default_factory=set)
    files: set[str] = field(default_factory=set)
    candidates: set[str] = field(default_factory=set)  # unused directories found after collection
    roots: set[str] = field(default_factory=set)
    complete: bool = True

    def as_json(self) -> dict[str, Any]:
        return {
            "directories": sorted(self.directories),
            "files": sorted(self.files),
            "candidates": sorted(self.candidates),
            "roots": sorted(self.roots),
            "complete": self.complete,
        }

    def merge(self, data: dict[str, Any]) -> None:
        self.directories.update(data["directories"])
        self.files.update(data["files"])
        self.candidates.update(data["candidates"])
        self.roots.update(data["roots"])
        self.complete = self.complete and bool(data["complete"])


class CassettePlugin:
    """The plugin's state for one pytest run (one ``Config``)."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.settings = Settings.of(config)
        self.blocker: NetworkBlock | None = None
        self.usage = _Usage()
        self.deselected: list[pytest.Item] = []
        self.claimed: set[Path] = set()
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
            why = "--cassette-block-network"
            self.blocker = NetworkBlock(
                HostFilter(self.settings.ignore_hosts, self.settings.ignore_localhost), why
            )
            self._stack.enter_context(process_route(self.blocker))

    def pytest_unconfigure(self) -> None:
        self._stack.close()

    def pytest_report_header(self) -> str:
        mode, source = self.settings.default_mode()
        note = f" ({ALIASES[mode][0]}: {ALIASES[mode][1]})" if mode in ALIASES else ""
        block = ", network blocked" if self.settings.block_network else ""
        return f"httpx_cassette: mode {mode}{note} from {source}{block}"

    def _track(self, session: CassetteSession) -> None:
        self.usage.directories.add(session.path.resolve().as_posix())
        if self.settings.report is not None:
            try:
                files = session.used_files()
            except CassetteError:  # a broken file in the directory: reported where it is used, not here
                self.usage.complete = False
                return
            self.usage.files.update(file.resolve().as_posix() for file in files if file.exists())

    # -- collection: which folders some test owns --------------------------------------------------

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected.extend(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        modules: set[Path] = set()
        for item in [*session.items, *self.deselected]:
            if isinstance(item, pytest.Function):
                modules.add(item.path)
                self.claimed.add(self.settings.module_folder(item.path) / folder_name(item))
                with contextlib.suppress(CassetteError):  # reported when the test runs
                    options = _marker_options(item)
                    if options and options.get("path") is not None:
                        self.claimed.add(self._marker_path(item, options["path"]))
        self.usage.candidates = {p.resolve().as_posix() for p in self._candidates(modules)}
        self.usage.roots = {self.settings.cassette_root(m.parent).resolve().as_posix() for m in modules}

    def _full(self) -> tuple[list[Path], set[Path]]:
        """Directories collected in full, and modules collected only in part (``file::test``)."""
        invoked = self.config.invocation_params.dir
        full: list[Path] = []
        partial: set[Path] = set()
        for arg in self.config.args:
            path = (invoked / arg.split("::", 1)[0]).resolve()
            if "::" in arg:
                partial.add(path)
            elif path.is_dir():
                full.append(path)
        return full, partial

    def _candidates(self, modules: set[Path]) -> Iterator[Path]:
        full, partial = self._full()
        for module in sorted(modules - partial):
            folder = self.settings.module_folder(module)
            if folder.is_dir():
                for entry in sorted(folder.iterdir()):
                    if entry.is_dir() and self.settings.looks_like_test(entry.name) and self._stale(entry):
                        yield entry
        directories = {m.parent for m in modules if any(m.parent == d or d in m.parent.parents for d in full)}
        for directory in sorted(directories):
            root = self.settings.cassette_root(directory)
            if not root.is_dir():
                continue
            for entry in sorted(root.iterdir()):
                gone = not (directory / f"{entry.name}.py").exists() and not (directory / entry.name).exists()
                if (
                    entry.is_dir()
                    and gone
                    and self.settings.looks_like_module(entry.name)
                    and self._stale(entry)
                ):
                    yield entry

    def _stale(self, folder: Path) -> bool:
        owned = any(c == folder or folder in c.parents or c in folder.parents for c in self.claimed)
        has_files = any(f.suffix == ".json" for f in folder.rglob("*.json"))
        return has_files and not owned

    # -- one test ----------------------------------------------------------------------------------

    def _marker_path(self, item: pytest.Function, value: str | os.PathLike[str]) -> Path:
        path = Path(value)
        return path if path.is_absolute() else self.settings.module_folder(item.path) / path

    def run_test(self, request: pytest.FixtureRequest) -> Iterator[CassetteSession | None]:
        item = request.node
        blocked_before = len(self.blocker.blocked) if self.blocker else 0
        try:
            options = _marker_options(item) if isinstance(item, pytest.Function) else None
        except CassetteError as exc:
            pytest.fail(f"{item.nodeid}: {exc}", pytrace=False)
        if not isinstance(item, pytest.Function) or (options is None and not _asks_for_cassette(item)):
            item.stash[_STATE] = _TestState(None, blocked_before)
            yield None
            return
        options = options or {}
        session = self._open(item, options)
        state = item.stash[_STATE] = _TestState(session, blocked_before)
        with process_route(session):
            yield session
        # a cassette given a path may be shared by several tests: only checked when the marker asks
        shared = options.get("path") is not None
        unused = str(options.get("unused", "ignore" if shared else self.settings.unused))
        self._close(item, state, session, unused)

    def _open(self, item: pytest.Function, options: dict[str, Any]) -> CassetteSession:
        path_value = options.get("path")
        path = (
            self._marker_path(item, path_value)
            if path_value is not None
            else self.settings.module_folder(item.path) / folder_name(item)
        )
        try:
            marked = _mode_spec(str(options["mode"]), "the cassette marker") if options.get("mode") else None
            mode, source = (marked, "marker") if marked else self.settings.default_mode()
        except CassetteError as exc:
            pytest.fail(f"{item.nodeid}: {exc}", pytrace=False)
        fresh_since = self.started if mode == "rewrite" else None
        if mode == "once":
            mode = "replay" if _has_recordings(path) else "record"
        mode = ALIASES[mode][0] if mode in ALIASES else mode
        if mode == "live" and self.settings.block_network:
            pytest.fail(
                f"{item.nodeid}: cassette mode live cannot run under --cassette-block-network", pytrace=False
            )
        kwargs = {name: options[name] for name in SESSION_OPTIONS if name in options}
        kwargs["mode"] = mode
        kwargs["ignore_hosts"] = (*self.settings.ignore_hosts, *options.get("ignore_hosts", ()))
        kwargs.setdefault("ignore_localhost", self.settings.ignore_localhost)
        recording = mode in ("record", "record-missing")
        backup = recording and not self.settings.keep_failed
        try:
            session = CassetteSession(path, fresh_since=fresh_since, backup=backup, **kwargs)
        except (CassetteError, TypeError) as exc:
            pytest.fail(f"{item.nodeid}: cannot open cassette {path}: {exc}", pytrace=False)
        # what a miss's hints say about where the mode came from ("passed as an argument" would mislead)
        sources = {f"${ENV_MODE}": "environment", "default": "default"}
        session.cassette.mode_source = sources.get(source, "pytest")
        return session

    def _close(self, item: pytest.Function, state: _TestState, session: CassetteSession, unused: str) -> None:
        reports = item.stash.get(_REPORTS, {})
        failed = any(r.failed or hasattr(r, "wasxfail") for r in reports.values())
        if failed and session.mode in ("record", "record-missing") and not self.settings.keep_failed:
            session.rollback()
        self._track(session)
        if failed:
            return
        errors = self._errors(state)
        if errors and not state.reported:
            pytest.fail(_swallowed(errors), pytrace=False)
        if session.mode == "replay" and unused != "ignore":
            left = session.unused()
            if left:
                names = "\n".join(f"  {file.name}" for file in left)
                message = (
                    f"cassette {self.settings.shown(session.path)} has {len(left)} recording(s) this test"
                    f" did not use:\n{names}\n  re-record it (--cassette-mode rewrite) or delete them"
                )
                if unused == "fail":
                    pytest.fail(message, pytrace=False)
                warnings.warn(CassetteUnusedWarning(message), stacklevel=1)

    def _errors(self, state: _TestState) -> list[CassetteError]:
        errors: list[CassetteError] = list(state.session.misses) if state.session else []
        if self.blocker:
            errors += self.blocker.blocked[state.blocked_before :]
        return errors

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, object, object]:
        __tracebackhide__ = True
        state = item.stash.get(_STATE, None)
        try:
            result = yield
        except BaseException as exc:
            miss = surfaced_miss(exc, self._errors(state)) if state else None
            if miss is None:
                raise
            assert state is not None
            state.reported = True
            raise miss from exc
        if state is not None and self._errors(state):
            state.reported = True
            raise _rebuilt(self._errors(state))
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
        used = self.usage.directories
        self.unused = sorted(
            Path(c) for c in self.usage.candidates if not any(u == c or u.startswith(f"{c}/") for u in used)
        )
        if self.settings.prune and self.usage.complete:
            for folder in self.unused:
                shutil.rmtree(folder, ignore_errors=True)
                self._remove_empty_parents(folder)
            self.pruned = True
        if self.settings.report is not None:
            self._write_report(self.settings.report)

    def _remove_empty_parents(self, folder: Path) -> None:
        roots = {Path(r) for r in self.usage.roots}
        parent = folder.parent
        while (
            parent not in roots and parent != parent.parent and parent.is_dir() and not any(parent.iterdir())
        ):
            parent.rmdir()
            parent = parent.parent

    def _write_report(self, path: Path) -> None:
        base = path.resolve().parent

        def relative(paths: Iterable[str | Path]) -> list[str]:
            return sorted(Path(os.path.relpath(p, base)).as_posix() for p in paths)

        report = {
            "version": REPORT_VERSION,
            "complete": self.usage.complete,
            "used": relative(self.usage.files),
            "directories": relative(self.usage.directories),
            "unused_directories": relative(self.unused),
        }
        base.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=2) + "\n")

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.unused:
            return
        count = len(self.unused)
        folders = f"{count} cassette director{'y' if count == 1 else 'ies'} no test used"
        if self.pruned:
            title = f"httpx_cassette: pruned {folders}"
        elif self.settings.prune:
            title = f"httpx_cassette: {folders}, not pruned (a worker crashed or the run was interrupted)"
        else:
            title = f"httpx_cassette: {folders} (delete with --cassette-prune)"
        terminalreporter.write_sep("-", title)
        for folder in self.unused:
            terminalreporter.write_line(f"  {self.settings.shown(folder)}")


def _rebuilt(errors: list[CassetteError]) -> CassetteError:
    text = _swallowed(errors)
    first = errors[0]
    return CassetteMiss(text, first.details) if isinstance(first, CassetteMiss) else type(first)(text)


def _swallowed(errors: Iterable[CassetteError]) -> str:
    errors = list(errors)
    more = f"\n  ({len(errors) - 1} more like it)" if len(errors) > 1 else ""
    return f"{errors[0]}\n  the code under test caught this error, so the test did not fail by itself{more}"
