"""Configure once per suite: the ``cassette_config`` fixture, how its settings meet the marker's, and
the CI guard.

Precedence, first match wins: ``--cassette-mode`` / ``--record-mode`` > ``$HTTPX_CASSETTE_MODE`` >
marker > the nearest ``cassette_config`` (or ``vcr_config``) fixture > ini > default. Options other
than the mode merge: a marker's keyword wins over the fixture's.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from httpx_cassette.config import FLAT, CassetteConfig
from httpx_cassette.core import modes
from httpx_cassette.errors import CassetteError

__all__ = ["EXPLICIT", "CIRecordingError", "cassette_config", "chosen_mode", "fixture_layer", "guard_ci"]

# Mode sources that are a choice made for this run, which the CI guard lets through.
EXPLICIT = ("--cassette-mode", "--record-mode", f"${modes.ENV_MODE}")


class CIRecordingError(CassetteError):
    """A record mode reached under ``$CI`` without being asked for on the command line or environment."""


@pytest.fixture
def cassette_config() -> CassetteConfig | dict[str, Any] | None:
    """The cassette settings of the tests in its scope: a `CassetteConfig` or a dict of its flat
    options (``mode``, ``redact_json_paths``, ``before_record_request``...). Override it in a
    conftest, module or class; a marker's keywords win over it."""
    return None


def fixture_layer(value: object, source: str = "the cassette_config fixture") -> dict[str, Any]:
    """The options a ``cassette_config`` fixture value gives, in the marker options' shape."""
    if value is None:
        return {}
    if isinstance(value, CassetteConfig):
        return {"config": value, **({"mode": value.mode} if value.mode else {})}
    if isinstance(value, Mapping):
        unknown = sorted(set(value) - {*FLAT, "config"})
        if unknown:
            raise CassetteError(
                f"unknown option {unknown[0]!r} in {source}; the options are {', '.join(FLAT)}"
            )
        return dict(value)
    raise CassetteError(f"{source} returned {value!r}: return a CassetteConfig, a dict of options, or None")


def chosen_mode(default: tuple[str, str], marker: dict[str, Any], fixture: dict[str, Any]) -> tuple[str, str]:
    """The mode (a mode or vcrpy alias) of one test, and its source; ``default`` is the run's."""
    spec, source = default
    if source in EXPLICIT:
        return spec, source
    layers = ((marker, "marker", "cassette marker"), (fixture, "fixture", "cassette_config"))
    for layer, name, label in layers:
        if layer.get("mode"):
            return modes.checked(str(layer["mode"]), f"the {label}"), name
    return spec, source


def in_ci() -> bool:
    """Whether ``$CI`` says this is a CI run (set, and not empty, 0 or false)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def guard_ci(mode: str, source: str, path: Path | None, enabled: bool) -> None:
    """Refuse a record mode under ``$CI`` unless it was chosen on the command line or environment."""
    if not enabled or mode not in modes.RECORDING or source in EXPLICIT or not in_ci():
        return
    where = f"cassette {path} would " if path is not None else "this run would "
    raise CIRecordingError(
        f"{where}record ({mode}, from the {source}) although $CI is set: a CI run must not record by"
        " accident. Record locally and commit the cassettes; to record in CI on purpose pass"
        " --cassette-mode (or --record-mode) or set $HTTPX_CASSETTE_MODE; the ini option"
        " cassette_ci_guard = false turns this check off"
    )
