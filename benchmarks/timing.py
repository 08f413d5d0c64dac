"""Interleaved timing: every contender of a scenario runs once per round, rounds repeat, medians win.

A block runs the measured operation ``n`` times and returns the seconds spent in the timed part only
(entering a peer's cassette context or building requests happens outside it). Each case gets its own
``n``, calibrated so one block lasts about ``block_s``; a round runs every case once, in an order
rotated from round to round, so slow drifts of the machine spread over all contenders alike.
"""

from __future__ import annotations

import gc
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

Block = Callable[[int], float]


@dataclass
class Case:
    """One contender in one scenario."""

    scenario: str
    contender: str
    floor: str  # the contender this one is reported as a ratio to
    block: Block
    n: int = 0
    samples: list[float] = field(default_factory=list)  # seconds per operation, one per round

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def calibrate(case: Case, block_s: float, max_n: int = 100_000) -> None:
    """Pick ``case.n`` so that one block takes about ``block_s`` (at least one operation)."""
    case.block(1)  # warm-up: first-use costs (imports, caches) are not what we measure
    n, spent = 1, case.block(1)
    while spent < block_s / 10 and n < max_n:
        n *= 4
        spent = case.block(n)
    case.n = max(1, min(max_n, math.ceil(n * block_s / max(spent, 1e-9))))


def run_rounds(cases: Sequence[Case], rounds: int, block_s: float, progress: Callable[[str], None]) -> None:
    """Calibrate every case, then run ``rounds`` interleaved rounds: one sample per case per round."""
    for case in cases:
        calibrate(case, block_s)
    # Everything alive now (SDK modules, recorded cassettes, clients) is moved out of the collector's
    # reach: the collect before each block then costs microseconds, not a walk of the whole heap.
    gc.collect()
    gc.freeze()
    by_scenario: dict[str, list[Case]] = {}
    for case in cases:
        by_scenario.setdefault(case.scenario, []).append(case)
    try:
        for r in range(rounds):
            progress(f"round {r + 1}/{rounds}")
            for group in by_scenario.values():
                shift = r % len(group)
                for case in [*group[shift:], *group[:shift]]:
                    gc.collect()
                    case.samples.append(case.block(case.n) / case.n)
    finally:
        gc.unfreeze()


def ratios(cases: Sequence[Case]) -> dict[tuple[str, str], float]:
    """(scenario, contender) -> median of the contender / median of its floor, within this run."""
    medians = {(c.scenario, c.contender): c.median for c in cases}
    return {(c.scenario, c.contender): c.median / medians[(c.scenario, c.floor)] for c in cases}
