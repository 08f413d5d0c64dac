"""Run the benchmarks: ``python benchmarks/run.py`` (a few minutes) or ``--quick`` (about a minute).

Prints a Markdown report (what docs/benchmarks.md shows) and optionally writes it and the raw numbers.
Everything is measured in this one process run, except import times (fresh interpreters) and the
server recordings talk to (a child process). Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make `benchmarks` and `tests` importable
    sys.path.insert(0, str(ROOT))

from benchmarks import oneshot, recording, replay, scale, timing  # noqa: E402
from benchmarks.fixtures import Recorded, record_all  # noqa: E402
from benchmarks.report import markdown  # noqa: E402
from benchmarks.server import openai_server  # noqa: E402

PARTS = ("replay", "recording", "scale", "key", "import", "disk")
PACKAGES = ("httpx-cassette", "httpx", "httpx2", "openai", "msgspec", "respx", "vcrpy", "cassetter", "PyYAML")


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _meta() -> dict[str, Any]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "missing"
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{_cpu()}, {os.cpu_count()} CPUs, {platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "versions": versions,
    }


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    quick = args.quick
    return {
        "rounds": args.rounds or (3 if quick else 7),
        # An unpaced recording takes ~30 ms a contender: cheap rounds, and the ratio is the target's
        "bulk_rounds": 5 * (args.rounds or (3 if quick else 7)),
        "block_s": args.block_seconds or (0.03 if quick else 0.15),
        "scale_n": args.scale_n or (2_000 if quick else 10_000),
        "peer_n": args.peer_n if args.peer_n is not None else (100 if quick else 1_000),
        "scale_rounds": 1 if quick else 3,
        "paced_events": 10 if quick else 20,
        "delay_ms": 10.0,
        "bulk_events": 2_000,
        "long_events": 300 if quick else 600,
        "long_delay_ms": 1.0,
        "import_runs": 5 if quick else 15,
        "key_rounds": 3 if quick else 7,
        "libs": tuple(args.libs.split(",")),
    }


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _replay(recorded: dict[str, Recorded], s: dict[str, Any]) -> list[dict[str, Any]]:
    loop = asyncio.new_event_loop()
    try:
        replay.check(recorded, s["libs"], loop)
        cases = replay.cases(recorded, s["libs"], loop)
        _progress(f"replay: {len(cases)} cases, {s['rounds']} rounds")
        timing.run_rounds(
            cases,
            s["rounds"],
            s["block_s"],
            lambda m: _progress(f"replay: {m}"),
            call_by_call=lambda scenario: scenario.startswith("sdk "),  # milliseconds a call
        )
    finally:
        loop.close()
    ratios = timing.ratios(cases)
    return [
        {
            "scenario": c.scenario,
            "contender": c.contender,
            "floor": c.floor,
            "n": c.n,
            "median_s": c.median,
            "ratio": ratios[(c.scenario, c.contender)],
            "samples_s": c.samples,
        }
        for c in cases
    ]


def _recording(base_url: str, root: Path, s: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = {
        "libs": s["libs"],
        "paced_events": s["paced_events"],
        "delay_ms": s["delay_ms"],
        "bulk_events": s["bulk_events"],
        "bulk_rounds": s["bulk_rounds"],
        "long_events": s["long_events"],
        "long_delay_ms": s["long_delay_ms"],
    }
    for label, events, delay in (
        ("paced", s["paced_events"], s["delay_ms"]),
        ("bulk", s["bulk_events"], 0.0),
        ("long", s["long_events"], s["long_delay_ms"]),
    ):
        _progress(f"recording: {label}")
        rounds = s["bulk_rounds"] if label == "bulk" else s["rounds"]
        timings = recording.measure(base_url, root / label, s["libs"], rounds, events, delay)
        lives = {r.name: r.live for r in recording.recorders(s["libs"])}
        found[label] = {
            name: {
                "first_ms": recording.median(t.first_ms),
                "total_ms": recording.median(t.total_ms),
                "tail_ms": recording.median(t.tail_ms) if t.tail_ms else None,
                "live": lives[name],
                "ratio": recording.paired_ratio(t.total_ms, timings[lives[name]].total_ms),
            }
            for name, t in timings.items()
        }
    return found


def _scale(root: Path, s: dict[str, Any]) -> dict[str, Any]:
    _progress(f"scale: recording and replaying {s['scale_n']:,} interactions")
    result = scale.measure_ours(root / "httpx_cassette", s["scale_n"], s["scale_rounds"])
    found: dict[str, Any] = {
        "n": result.n,
        "record_s": result.record_s,
        **scale.summary(result),
        "peer_n": s["peer_n"],
        "peers": {},
    }
    if s["peer_n"]:
        for peer in scale.PEERS:
            _progress(f"scale: {peer} with {s['peer_n']:,} interactions")
            found["peers"][peer] = scale.measure_peer(peer, root, s["peer_n"])
    return found


DOCS = ROOT / "docs" / "benchmarks.md"
_START, _END = "<!-- results:start -->", "<!-- results:end -->"


def update_docs(report: str) -> None:
    """Put ``report`` between the results markers of docs/benchmarks.md; the prose around stays."""
    text = DOCS.read_text(encoding="utf-8")
    head, found, rest = text.partition(_START)
    _, found_end, tail = rest.partition(_END)
    if not (found and found_end):
        raise SystemExit(f"{DOCS} has no {_START} ... {_END} block to replace")
    DOCS.write_text(f"{head}{_START}\n{report}{_END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="fewer rounds, shorter blocks, 2,000-file scale test"
    )
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts (repeatable)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 7, quick 3)")
    parser.add_argument("--block-seconds", type=float, help="target length of one timed block")
    parser.add_argument("--scale-n", type=int, help="interactions in the scale directory (default 10,000)")
    parser.add_argument("--peer-n", type=int, help="interactions for vcrpy/cassetter at scale (0: skip)")
    parser.add_argument(
        "--libs", default="httpx,httpx2", help="HTTP libraries to measure (default httpx,httpx2)"
    )
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help=f"replace the results in {DOCS.relative_to(ROOT)} with this run's",
    )
    parser.add_argument("--json", type=Path, help="write the raw numbers here")
    args = parser.parse_args(argv)
    parts = set(args.only or PARTS)
    s = _settings(args)
    results: dict[str, Any] = {"meta": _meta(), "settings": {k: v for k, v in s.items() if k != "libs"}}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="httpx-cassette-bench-") as tmp:
        root = Path(tmp)
        recorded: dict[str, Recorded] = {}
        if parts & {"replay", "recording", "disk"}:
            with openai_server() as base_url:
                _progress(f"server at {base_url}; recording fixtures")
                recorded = record_all(base_url, root / "fixtures")
                if "recording" in parts:
                    results["recording"] = _recording(base_url, root / "recording", s)
        if "replay" in parts:
            results["replay"] = _replay(recorded, s)
        if "scale" in parts:
            results["scale"] = _scale(root / "scale", s)
        if "key" in parts:
            _progress("key of a 1 MB body")
            results["key"] = oneshot.key_timings(s["key_rounds"], 20 if not args.quick else 5)
        if "import" in parts:
            _progress("import times")
            results["imports"] = {
                "times": oneshot.import_timings(s["import_runs"]),
                "heavy": oneshot.heavy_imports(),
            }
        if "disk" in parts:
            results["disk"] = oneshot.disk_bytes(recorded)
    results["settings"]["seconds"] = round(time.perf_counter() - started, 1)
    report = markdown(results)
    print(report)
    if args.markdown:
        args.markdown.write_text(report)
    if args.update_docs:
        update_docs(report)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return results


if __name__ == "__main__":
    main()
