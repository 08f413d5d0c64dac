"""Interleaved timing: every contender of a scenario runs once per round, rounds repeat, medians win.

A block runs the measured operation ``n`` times and returns the seconds spent in the timed part only
(entering a peer's cassette context or building requests happens outside it). Each case gets its own
``n``, calibrated so one block lasts about ``block_s``; a round runs every case once, in an order
rotated from round to round, so slow drifts of the machine spread over all contenders alike.

Scenarios whose operation takes milliseconds (a call through an SDK) can be interleaved call by call
instead: within a round, each contender makes one call in turn, in an order shuffled every turn, until
each has made its ``n`` (at least `MIN_TURNS`); the round's time for a contender is the median of its
calls. On a shared machine, a block of 0.15 s can lose 10-20% to a neighbour and the next one nothing,
which is more than the difference being measured; call by call, contenders share the machine's moments
alike, and the "floor, again" row (the floor measured a second time) shows how close that gets.

A cell is the median over rounds of its ratio to its floor in the same round (paired, so what slows a
whole round cancels out).
"""

from __future__ import annotations

import gc
import math
import random
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


# Calls per contender per round when interleaving call by call, however long a call is: with 3, a 140 ms
# call's cell landed 0.02-0.04 from its peers from run to run, all of them serving one chunk.
MIN_TURNS = 5


def _turns(group: Sequence[Case], r: int) -> None:
    """One round of ``group`` interleaved call by call: a sample per case, the median of its calls (one
    call that a neighbour's burst or a garbage collection slowed does not move it). Every case makes
    the same number of calls, so none runs on alone at the end of a round."""
    n = max(MIN_TURNS, *(case.n for case in group))
    spent: list[list[float]] = [[] for _ in group]
    order = list(range(len(group)))
    shuffle = random.Random(r).shuffle  # seeded: a rerun takes the same turns
    for _ in range(n):
        # A new order every turn, and the young garbage of the previous call collected before the next:
        # in a fixed cyclic order, the floor always followed the peers that patch the library and paid
        # for their garbage (it measured 6-9% slower than "floor, again" on 1 ms calls). A full
        # collection per call would walk every object the run keeps and leave the caches cold.
        shuffle(order)
        for j in order:
            gc.collect(0)
            spent[j].append(group[j].block(1))
    for case, calls in zip(group, spent, strict=True):
        case.n = n
        case.samples.append(statistics.median(calls))


def run_rounds(
    cases: Sequence[Case],
    rounds: int,
    block_s: float,
    progress: Callable[[str], None],
    call_by_call: Callable[[str], bool] = lambda scenario: False,
) -> None:
    """Calibrate every case, then run ``rounds`` interleaved rounds: one sample per case per round;
    the scenarios ``call_by_call`` picks are interleaved call by call within each round."""
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
            for scenario, group in by_scenario.items():
                if call_by_call(scenario):
                    gc.collect()
                    _turns(group, r)
                    continue
                shift = r % len(group)
                for case in [*group[shift:], *group[:shift]]:
                    gc.collect()
                    case.samples.append(case.block(case.n) / case.n)
    finally:
        gc.unfreeze()


def ratios(cases: Sequence[Case]) -> dict[tuple[str, str], float]:
    """(scenario, contender) -> the median over rounds of the contender's time / its floor's time in
    the same round."""
    by_name = {(c.scenario, c.contender): c for c in cases}
    found = {}
    for c in cases:
        floor = by_name[(c.scenario, c.floor)]
        found[(c.scenario, c.contender)] = statistics.median(
            mine / theirs for mine, theirs in zip(c.samples, floor.samples, strict=True)
        )
    return found
