"""Which tests get a cassette, and the options their ``@pytest.mark.cassette`` markers give it.

A class-level marker applies to its methods; the closest marker wins per option.
"""

from __future__ import annotations

from typing import Any

import pytest

from httpx_cassette.config import FLAT
from httpx_cassette.errors import CassetteError

__all__ = [
    "MARKER",
    "CAUGHT_POLICIES",
    "MARKER_OPTIONS",
    "asks_for_cassette",
    "caught_policy",
    "marker_options",
    "unused_policy",
]

MARKER = "cassette"
# A path, a whole `CassetteConfig`, every flat option of one, what to do with unused recordings and
# with misses or blocked requests the test caught.
MARKER_OPTIONS = ("path", "config", *FLAT, "unused", "caught_errors")


def marker_options(item: pytest.Item) -> dict[str, Any] | None:
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


def unused_policy(options: dict[str, Any], default: str) -> str:
    """What to do with unused recordings: the marker's ``unused=``, else ``default``.

    A cassette given a path may be shared by several tests, so it is only checked when the marker asks.
    The per-test cassette of a ``vcr``-marked test has a path the plugin computed (``shared`` False),
    and is checked like any test's own.
    """
    shared = options.get("path") is not None and options.get("shared", True)
    return str(options.get("unused", "ignore" if shared else default))


CAUGHT_POLICIES = ("fail", "pass")  # a test that caught a miss or a blocked request: fails, or passes


def caught_policy(options: dict[str, Any], default: str) -> str:
    """What a test that caught a miss or a blocked request does: the marker's ``caught_errors=``
    (``fail`` or ``pass``), else ``default``."""
    caught = str(options.get("caught_errors", default))
    if caught not in CAUGHT_POLICIES:
        raise CassetteError(f"@pytest.mark.cassette(caught_errors={caught!r}): use 'fail' or 'pass'")
    return caught


def asks_for_cassette(item: pytest.Function) -> bool:
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
