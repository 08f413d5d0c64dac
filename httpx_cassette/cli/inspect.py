"""Looking inside cassettes: which files a directory holds, one listing row per file, and what a
recorded stream said (its assembled transcript) and how it was paced (its timing).

Pure functions over the stored format, shared by the CLI's ``ls``, ``show``, ``verify`` and ``diff``.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from msgspec import UNSET

from httpx_cassette.core.transcript import ToolCall, Transcript, transcript_of
from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.model.cassette import CassetteFile, Response
from httpx_cassette.storage.codec import decode_file
from httpx_cassette.storage.files import open_inside

__all__ = [
    "Row",
    "Timing",
    "ToolCall",
    "Transcript",
    "load",
    "row_of",
    "sparkline",
    "timing_of",
    "transcript_of",
]


def load(file: Path) -> CassetteFile:
    """Parse one cassette file, ours or a llama-stack recording; `CassetteFormatError` names the file
    and what is wrong (`NotAnExchangeError` for a file that records no HTTP exchange)."""
    try:
        data = open_inside(file.parent, file.name)  # no link, FIFO or device is followed or read
    except FileNotFoundError:
        raise CassetteFormatError(str(file), "it does not exist (any more)") from None
    return decode_file(data, str(file))


# -- ls ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """One interaction as ``ls`` lists it (one file: one request and its ordered responses)."""

    file: str
    method: str
    path: str
    statuses: list[int]
    streaming: bool
    events: list[int]  # event count of each streamed response
    size: int
    recorded_at: str

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "method": self.method,
            "path": self.path,
            "statuses": self.statuses,
            "streaming": self.streaming,
            "events": self.events,
            "responses": len(self.statuses),
            "size": self.size,
            "recorded_at": self.recorded_at,
        }


def row_of(file: Path, cassette: CassetteFile, root: Path) -> Row:
    """The listing row of ``file`` (shown relative to ``root``)."""
    name = file.name if file == root else file.relative_to(root).as_posix()
    responses = cassette.responses
    return Row(
        file=name,
        method=cassette.request.method,
        path=urlsplit(cassette.request.url).path or "/",
        statuses=[r.status for r in responses],
        streaming=any(r.is_streaming for r in responses),
        events=[len(r.events()) for r in responses if r.is_streaming],
        size=file.stat().st_size,
        recorded_at=cassette.meta.recorded_at,
    )


# -- show: timing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """How a recorded response was paced, in milliseconds from the moment the request was sent."""

    headers_ms: float | None  # response headers arrived
    first_event_ms: float | None
    total_ms: float | None  # the last event (or chunk) arrived
    gaps_ms: list[float]  # between consecutive events

    @property
    def empty(self) -> bool:
        return self.headers_ms is None and self.first_event_ms is None

    def longest_gaps(self, count: int = 3) -> list[tuple[int, float]]:
        """``(event index, gap before it)`` of the longest gaps, longest first."""
        ranked = sorted(enumerate(self.gaps_ms, start=1), key=lambda item: -item[1])
        return ranked[:count]

    @property
    def median_gap_ms(self) -> float | None:
        return statistics.median(self.gaps_ms) if self.gaps_ms else None


def timing_of(response: Response) -> Timing:
    """The timing of a recorded response (empty when it was not recorded live)."""
    # Loading keeps offsets within 0-24 h, but this must not fail on whatever else passes: an offset
    # that is no finite number of milliseconds says nothing, and is left out. Offsets out of order
    # give negative gaps, shown as they are.
    elapsed = response.elapsed_ms
    headers = elapsed if isinstance(elapsed, float) and math.isfinite(elapsed) else None
    stored = response.offsets_ms if response.offsets_ms is not UNSET else []
    offsets = [float(o) for o in stored if isinstance(o, int | float) and math.isfinite(o)]
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(offsets)]  # ±inf only past ±1e308: drawn
    return Timing(headers, offsets[0] if offsets else None, offsets[-1] if offsets else headers, gaps)


_BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 60) -> str:
    """A one-line bar chart of ``values`` (each column the largest of its bucket), at most ``width`` wide.

    Total on any floats (the gaps of a hostile file): a value at or below zero (offsets out of order)
    draws the lowest bar, an infinite one the highest, and NaN is left out."""
    values = [v for v in values if v == v]  # NaN has no height, and would poison max()
    if not values:
        return ""
    size = -(-len(values) // max(1, width))  # ceil: values per column
    columns = [max(values[i : i + size]) for i in range(0, len(values), size)]
    top = max((c for c in columns if math.isfinite(c)), default=0.0)
    highest = len(_BARS) - 1

    def bar(value: float) -> str:
        if value == math.inf:
            return _BARS[highest]
        if value <= 0 or top <= 0:
            return _BARS[0]
        return _BARS[min(highest, int(value / top * highest + 0.5))]  # 0 < value <= top: no overflow

    return "".join(bar(v) for v in columns)
