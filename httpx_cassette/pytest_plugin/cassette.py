"""One test's cassette under the pytest plugin: opening it, and what is checked when the test ends.

Errors are `CassetteError`\\ s whose text the plugin shows as the test's failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette.config import FLAT, CassetteConfig
from httpx_cassette.core import modes
from httpx_cassette.errors import CassetteError, CassetteMiss
from httpx_cassette.intercept.session import CassetteSession, NetworkBlock
from httpx_cassette.pytest_plugin.config_fixture import chosen_mode, guard_ci
from httpx_cassette.pytest_plugin.settings import Settings
from httpx_cassette.storage.files import cassette_files

__all__ = ["STATE", "RunState", "open_session", "rebuilt", "swallowed", "unused_message"]


@dataclass
class RunState:
    """What the plugin tracks for one test: its session, and where the blocked requests began."""

    session: CassetteSession | None
    blocked_before: int
    reported: bool = False  # an error of this test was raised where the test could see it
    spec: str | None = None  # the mode as chosen (a vcrpy name stays one): the vcr fixture's record_mode
    caught: str = "fail"  # an error the test caught fails it (`swallowed`), or it passes as it says

    def errors(self, blocker: NetworkBlock | None) -> list[CassetteError]:
        """This test's replay misses, and the requests the network block refused during it."""
        errors: list[CassetteError] = list(self.session.misses) if self.session else []
        if blocker:
            errors += blocker.blocked[self.blocked_before :]
        return errors


STATE = pytest.StashKey[RunState]()  # on each test item


def open_session(
    settings: Settings,
    path: Path,
    options: dict[str, Any],
    started: float,
    fixture: dict[str, Any] | None = None,
) -> tuple[CassetteSession, str]:
    """The session of the cassette at ``path``, in the mode the marker ``options``, the ``fixture``
    options (``cassette_config``) and ``settings`` give (`chosen_mode` has the order), and that mode
    as chosen (``once`` stays ``once``).

    ``started`` is the start of the run (``rewrite`` keeps what was recorded since). Raises
    `CIRecordingError` for a record mode reached by accident under ``$CI``.
    """
    fixture = fixture or {}
    spec, source = chosen_mode(settings.default_mode(), options, fixture)
    mode, fresh_since = modes.resolve_alias(spec, has_recordings=_has_recordings(path), started=started)
    guard_ci(mode, source, path, settings.ci_guard)
    if mode == "live" and settings.block_network:
        raise CassetteError("cassette mode live cannot run under --cassette-block-network")
    backup = mode in modes.RECORDING and not settings.keep_failed
    try:
        config = _config(options, fixture, settings, mode)
        session = CassetteSession(path, config, fresh_since=fresh_since, backup=backup)
    except (CassetteError, TypeError) as exc:
        raise CassetteError(f"cannot open cassette {path}: {exc}") from None
    session.cassette.set_mode_source(source, spec)  # a miss says how to record in that source's words
    return session, spec


def _config(
    options: dict[str, Any], fixture: dict[str, Any], settings: Settings, mode: str
) -> CassetteConfig:
    """The marker's config and options over the fixture's, over the run's hosts, localhost, ignore
    rules and age."""
    flat = {name: layer[name] for layer in (fixture, options) for name in FLAT if name in layer}
    flat.pop("mode", None)
    config = CassetteConfig.of(options.get("config") or fixture.get("config"), **flat)
    given = "ignore_localhost" in options or "ignore_localhost" in fixture
    localhost = config.ignore_localhost if given else settings.ignore_localhost
    hosts = (*settings.ignore_hosts, *config.ignore_hosts)
    rules = (*settings.ignore, *config.ignore)
    marked = (
        "ignore_defaults" in options or "ignore_defaults" in fixture
    )  # else the ini may turn them off too
    defaults = config.ignore_defaults if marked else config.ignore_defaults and settings.ignore_defaults
    return config.override(
        mode=mode,
        ignore_hosts=hosts,
        ignore_localhost=localhost,
        ignore=rules,
        ignore_defaults=defaults,
        max_age=config.max_age or settings.max_age,
        strict_age=config.strict_age or settings.strict_age,
    )


def _has_recordings(path: Path) -> bool:
    return bool(cassette_files(path))


def unused_message(session: CassetteSession, policy: str, shown: Callable[[Path], str]) -> str | None:
    """What to warn about (or fail with) when a replayed test left recordings unused; else None."""
    if session.mode != "replay" or policy == "ignore":
        return None
    left = session.unused()
    if not left:
        return None
    names = "\n".join(f"  {file.name}" for file in left)
    return (
        f"cassette {shown(session.path)} has {len(left)} recording(s) this test"
        f" did not use:\n{names}\n  re-record it (--cassette-mode rewrite) or delete them"
    )


def swallowed(errors: Iterable[CassetteError]) -> str:
    """The failure of a test that passed although the code under test caught these errors."""
    errors = list(errors)
    more = f"\n  ({len(errors) - 1} more like it)" if len(errors) > 1 else ""
    return f"{errors[0]}\n  the code under test caught this error, so the test did not fail by itself{more}"


def rebuilt(errors: list[CassetteError]) -> CassetteError:
    """The first of ``errors``, raised again with the `swallowed` text, of the same class."""
    text = swallowed(errors)
    first = errors[0]
    return CassetteMiss(text, first.details) if isinstance(first, CassetteMiss) else type(first)(text)
