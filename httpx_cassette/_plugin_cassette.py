"""One test's cassette under the pytest plugin: opening it, and what is checked when the test ends.

Errors are `CassetteError`\\ s whose text the plugin shows as the test's failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _plugin_modes as modes
from ._errors import CassetteError, CassetteMiss
from ._plugin_marker import SESSION_OPTIONS
from ._plugin_settings import Settings
from ._session import CassetteSession, NetworkBlock

__all__ = ["RunState", "open_session", "rebuilt", "swallowed", "unused_message"]


@dataclass
class RunState:
    """What the plugin tracks for one test: its session, and where the blocked requests began."""

    session: CassetteSession | None
    blocked_before: int
    reported: bool = False  # an error of this test was raised where the test could see it

    def errors(self, blocker: NetworkBlock | None) -> list[CassetteError]:
        """This test's replay misses, and the requests the network block refused during it."""
        errors: list[CassetteError] = list(self.session.misses) if self.session else []
        if blocker:
            errors += blocker.blocked[self.blocked_before :]
        return errors


def open_session(settings: Settings, path: Path, options: dict[str, Any], started: float) -> CassetteSession:
    """The session of the cassette at ``path``, in the mode the marker ``options`` and ``settings`` give.

    ``started`` is the start of the run (``rewrite`` keeps what was recorded since).
    """
    marked = modes.checked(str(options["mode"]), "the cassette marker") if options.get("mode") else None
    spec, source = (marked, "marker") if marked else settings.default_mode()
    mode, fresh_since = modes.resolve(spec, path, started)
    if mode == "live" and settings.block_network:
        raise CassetteError("cassette mode live cannot run under --cassette-block-network")
    kwargs = _session_options(options, settings, mode)
    backup = mode in modes.RECORDING and not settings.keep_failed
    try:
        session = CassetteSession(path, fresh_since=fresh_since, backup=backup, **kwargs)
    except (CassetteError, TypeError) as exc:
        raise CassetteError(f"cannot open cassette {path}: {exc}") from None
    session.cassette.mode_source = modes.miss_source(source)
    return session


def _session_options(options: dict[str, Any], settings: Settings, mode: str) -> dict[str, Any]:
    """The marker's session options, over the run's ignored hosts and localhost setting."""
    kwargs = {name: options[name] for name in SESSION_OPTIONS if name in options}
    kwargs["mode"] = mode
    kwargs["ignore_hosts"] = (*settings.ignore_hosts, *options.get("ignore_hosts", ()))
    kwargs.setdefault("ignore_localhost", settings.ignore_localhost)
    return kwargs


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
