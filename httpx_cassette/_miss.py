"""Explaining a replay miss: what was asked, where we looked, and how to record it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from ._errors import CassetteMiss

__all__ = ["MissReport", "miss_error"]

_MAX_BODY = 2000


@dataclass(frozen=True)
class MissReport:
    """A miss as data: the request's canonical form and where it was looked for."""

    cassette: Path
    method: str
    path: str
    canonical: dict[str, Any]
    reason: str = "no recording"
    hints: list[str] = field(default_factory=list)


def _shorten(text: str, limit: int = _MAX_BODY) -> str:
    return text if len(text) <= limit else f"{text[: limit // 2]} … {text[-limit // 2 :]}"


def render(report: MissReport) -> str:
    """The message a person reads."""
    body = msgspec.json.encode(report.canonical.get("body"), order="sorted").decode()
    exists = report.cassette.is_dir()
    lines = [
        f"{report.reason} for {report.method} {report.path} in cassette {report.cassette}"
        + ("" if exists else " (the directory does not exist)"),
        f"  canonical body: {_shorten(body)}",
        *(f"  hint: {hint}" for hint in report.hints),
        "  to record it: run with HTTPX_CASSETTE_MODE=record-missing"
        " (or pass mode='record-missing' to CassetteTransport / use_cassette)",
    ]
    return "\n".join(lines)


def miss_error(report: MissReport) -> CassetteMiss:
    return CassetteMiss(render(report), report)
