"""The results as Markdown: machine and versions, targets met or missed, then every table."""

from __future__ import annotations

from typing import Any

X = "\u00d7"  # the multiplication sign after a ratio
DASH = "\u2013"  # an empty cell

TARGET_SDK = 1.03
TARGET_TRANSPORT = 2.0
NOISE = 0.03  # run-to-run spread of a cell's ratio on a shared machine
TARGET_FIRST_MS = 20.0
TARGET_ALL_S = 3.0
TARGET_TTFC_MS = 2.0
TARGET_RECORD_RATIO = 1.2
TARGET_KEY_MS = 10.0
TARGET_IMPORT_MS = 30.0


def duration(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


# ------------------------------------------------------------------------------------------- targets


def _where(row: dict[str, Any]) -> str:
    """``"async stream 200, httpx2"`` for a row of scenario ``"sdk async stream 200"``."""
    lib = row["contender"].rsplit("(", 1)[-1].rstrip(")")
    return f"{row['scenario'].split(' ', 1)[1]}, {lib}"


def _peer_target(
    replay: list[dict[str, Any]], ours: list[dict[str, Any]], margin: float, target: str
) -> tuple[str, str, bool]:
    """Whether each of ``ours`` is at most ``margin`` above the best peer of its scenario (either library)."""
    above = []
    for row in ours:
        peers = [
            r
            for r in replay
            if r["scenario"] == row["scenario"] and not r["contender"].startswith(("floor", "httpx_cassette"))
        ]
        best = min(peers, key=lambda r: r["ratio"], default=None)
        if best is not None and row["ratio"] > best["ratio"] + margin:
            above.append(f"{_where(row)} {row['ratio']:.2f}{X} vs {best['contender']} {best['ratio']:.2f}{X}")
    text = f"above in {len(above)} of {len(ours)}: " + "; ".join(above) if above else f"all {len(ours)} cells"
    return target, text, not above


def targets(results: dict[str, Any]) -> list[tuple[str, str, bool]]:
    """(target, what was measured, met) for every target the run has numbers for."""
    found: list[tuple[str, str, bool]] = []
    replay = results.get("replay", [])
    ours = [r for r in replay if r["contender"].startswith("httpx_cassette")]
    sdk = [r for r in ours if r["scenario"].startswith("sdk ")]
    if sdk:
        worst = max(sdk, key=lambda r: r["ratio"])
        over = [f"{_where(r)} {r['ratio']:.2f}{X}" for r in sdk if r["ratio"] > TARGET_SDK]
        text = f"worst {worst['ratio']:.2f}{X} ({_where(worst)})"
        if over:
            text += f"; over {TARGET_SDK}{X} in {len(over)} of {len(sdk)}: " + "; ".join(over)
        found.append((f"SDK replay ≤ {TARGET_SDK}{X} the floor in every scenario", text, not over))
        found.append(
            _peer_target(replay, sdk, NOISE, f"SDK replay never above the best peer by more than {NOISE}")
        )
    streams = [r for r in ours if r["scenario"].startswith("transport ") and " stream " in r["scenario"]]
    if streams:
        worst = max(streams, key=lambda r: r["ratio"])
        over = [f"{_where(r)} {r['ratio']:.2f}{X}" for r in streams if r["ratio"] > TARGET_TRANSPORT]
        text = f"worst {worst['ratio']:.2f}{X} ({_where(worst)})"
        if over:
            text += f"; over {TARGET_TRANSPORT}{X} in {len(over)} of {len(streams)}: " + "; ".join(over)
        found.append((f"transport level, every stream ≤ {TARGET_TRANSPORT}{X} the floor", text, not over))
        found.append(
            _peer_target(replay, streams, 0.0, "transport level, every stream at or below the best peer")
        )
    scale = results.get("scale")
    if scale:
        at = f" (at {scale['n']:,} interactions)" if scale["n"] != 10_000 else ""
        first = scale["first_ms"]
        found.append(
            (
                f"10,000-file directory: new transport + first replay < {TARGET_FIRST_MS:g} ms",
                f"{first:.2f} ms{at}",
                first < TARGET_FIRST_MS,
            )
        )
        found.append(
            (
                f"10,000-file directory: replay all once < {TARGET_ALL_S:g} s",
                f"{scale['all_s']:.2f} s{at}",
                scale["all_s"] < TARGET_ALL_S,
            )
        )
    rec = results.get("recording")
    if rec:
        for lib in rec["libs"]:
            paced, bulk = rec["paced"], rec["bulk"]
            delta = paced[f"httpx_cassette ({lib})"]["first_ms"] - paced[f"live ({lib})"]["first_ms"]
            found.append(
                (
                    f"recording ({lib}): time to first chunk within {TARGET_TTFC_MS:g} ms of live",
                    f"{delta:+.2f} ms",
                    delta <= TARGET_TTFC_MS,
                )
            )
            ratio = _bulk_ratio(bulk, f"httpx_cassette ({lib})")
            found.append(
                (
                    f"recording ({lib}): 2,000-event stream ≤ {TARGET_RECORD_RATIO}{X} live",
                    f"{ratio:.2f}{X}",
                    ratio <= TARGET_RECORD_RATIO,
                )
            )
    key = results.get("key")
    if key:
        found.append(
            (
                f"key of a 1 MB JSON body < {TARGET_KEY_MS:g} ms",
                f"{key['live_ms']:.2f} ms ({key['bytes'] / 1e6:.2f} MB, live request → key)",
                key["live_ms"] < TARGET_KEY_MS,
            )
        )
    imports = results.get("imports")
    if imports:
        ms = imports["times"]["httpx_cassette"]
        heavy = imports["heavy"]
        text = f"{ms:.1f} ms" + (
            f"; also imported: {', '.join(heavy)}" if heavy else "; no SDK, httpx2 or YAML imported"
        )
        found.append(
            (
                f"`import httpx_cassette` adds < {TARGET_IMPORT_MS:g} ms to `import httpx`",
                text,
                ms < TARGET_IMPORT_MS and not heavy,
            )
        )
    disk = results.get("disk")
    if disk:
        ours = sum(d["httpx_cassette"] for d in disk.values())
        vcrpy = sum(d["vcrpy"] for d in disk.values())
        found.append(
            (
                "disk: no more bytes than vcrpy's YAML",
                f"{ours:,} B vs {vcrpy:,} B ({ours / vcrpy:.2f}{X})",
                ours <= vcrpy,
            )
        )
    return found


# -------------------------------------------------------------------------------------------- tables


def _replay_tables(replay: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in replay:
        level, mode, scenario = r["scenario"].split(" ", 2)
        groups.setdefault(f"{level} {mode}", []).append({**r, "column": scenario})
    titles = {"sdk": "through the OpenAI SDK", "transport": "at transport level (request in, all bytes read)"}
    for group, rows in groups.items():
        level, mode = group.split(" ")
        columns = list(dict.fromkeys(r["column"] for r in rows))
        contenders = list(dict.fromkeys(r["contender"] for r in rows))
        cells = {(r["contender"], r["column"]): r for r in rows}
        body = []
        for contender in contenders:
            row = [contender]
            for column in columns:
                cell = cells.get((contender, column))
                row.append(f"{cell['ratio']:.2f}{X} · {duration(cell['median_s'])}" if cell else DASH)
            body.append(row)
        lines += ["", f"### Replay {titles[level]}, {mode}", "", *_table(["", *columns], body)]
    return lines


def _noise(replay: list[dict[str, Any]]) -> str:
    """How far the floor measured a second time lands from 1.00x: the method's own noise, per level."""
    parts = []
    for level, label in (("sdk ", "through the SDK"), ("transport ", "at transport level")):
        again = [
            r for r in replay if r["scenario"].startswith(level) and r["contender"].startswith("floor, again")
        ]
        if again:
            worst = max(again, key=lambda r: abs(r["ratio"] - 1))
            parts.append(f"{label} within {abs(worst['ratio'] - 1):.3f} of 1.00{X} (worst: {_where(worst)})")
    return "Noise: the floor measured a second time lands " + "; ".join(parts) + "." if parts else ""


def markdown(results: dict[str, Any]) -> str:
    meta = results["meta"]
    lines = [
        f"Run {meta['date']} on {meta['machine']}; {meta['python']}.",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        "",
        f"Settings: {results['settings']}.",
        "",
        "### Targets",
        "",
        *_table(["target", "measured", ""], [[t, m, _verdict(ok)] for t, m, ok in targets(results)]),
    ]
    if results.get("replay"):
        lines += [
            "",
            _noise(results["replay"]),
            "",
            "Cells: the median over rounds of the time per call as a ratio to the floor of the same library"
            " in the same round, then the median time per call. Floor: the library's MockTransport returning"
            " the prebuilt response bytes. Through the SDK, contenders take turns call by call within a"
            " round (at least 5 calls each) and a round's time is the median of its calls; at transport"
            " level, rounds time blocks of calls.",
            *_replay_tables(results["replay"]),
        ]
    scale = results.get("scale")
    if scale:
        rows = [
            [
                "httpx_cassette",
                f"{scale['n']:,}",
                f"record all: {duration(scale['record_s'])}",
                f"new transport + first replay: {scale['first_ms']:.2f} ms",
                f"replay all once: {duration(scale['all_s'])}",
            ],
        ]
        for peer, values in scale.get("peers", {}).items():
            n = scale["peer_n"]
            rows.append(
                [
                    peer,
                    f"{n:,}",
                    f"one cassette per test, replay all: {duration(values['per_test_s'])}"
                    f" ({duration(values['per_test_s'] / n)} each)",
                    f"one cassette holding all: open {duration(values['open_one_s'])}",
                    f"replay: {duration(values['one_each_s'])} per request,"
                    f" so {duration(values['one_each_s'] * n)} for all",
                ]
            )
        lines += ["", "### Scale", "", *_table(["", "interactions", "", "", ""], rows)]
    rec = results.get("recording")
    if rec:
        rows = []
        long = rec.get("long", {})  # absent from runs before it was measured
        for name, paced in rec["paced"].items():
            bulk = rec["bulk"][name]
            live_p = rec["paced"][paced["live"]]
            row = [
                name,
                f"{paced['first_ms']:.2f} ms ({paced['first_ms'] - live_p['first_ms']:+.2f})",
                f"{paced['total_ms']:.1f} ms",
                f"{bulk['total_ms']:.1f} ms ({_bulk_ratio(rec['bulk'], name):.2f}{X})",
            ]
            if long:
                row.append(f"{long[name]['tail_ms']:.2f} ms")
            rows.append(row)
        head = ["", "paced: first chunk (vs live)", "paced: total", "bulk: total (vs live)"]
        about = (
            f"Paced: {rec['paced_events']} events {rec['delay_ms']:g} ms apart;"
            f" bulk: {rec['bulk_events']:,} events unpaced."
        )
        bulk_rounds = f" ({rec['bulk_rounds']} for bulk)" if "bulk_rounds" in rec else ""
        if long:
            head.append("long: after the last chunk")
            about += (
                f" Long: {rec['long_events']:,} events {rec['long_delay_ms']:g} ms apart, as a model streams;"
                " the time from the caller's last chunk to the end (the recorder's context left): what"
                " recording still does once the stream is over."
            )
        lines += [
            "",
            "### Recording",
            "",
            f"{about} Server: the test suite's app in a child process. Medians of the rounds"
            f"{bulk_rounds}; a bulk ratio is the median of each round's ratio to live in the same round.",
            "",
            *_table(head, rows),
        ]
    key = results.get("key")
    if key:
        lines += [
            "",
            "### Key of a 1 MB JSON body",
            "",
            f"{key['bytes']:,} bytes: live request → key {key['live_ms']:.2f} ms; stored request → key"
            f" {key['stored_ms']:.2f} ms.",
        ]
    imports = results.get("imports")
    if imports:
        rows = [[m, f"{ms:.1f} ms"] for m, ms in imports["times"].items()]
        lines += [
            "",
            "### Import time added to `import httpx` (fresh interpreter, warm bytecode)",
            "",
            *_table(["module", "median"], rows),
        ]
    disk = results.get("disk")
    if disk:
        rows = [
            [
                name,
                *(f"{d[c]:,}" for c in ("httpx_cassette", "vcrpy", "cassetter")),
                f"{d['httpx_cassette'] / d['vcrpy']:.2f}{X}",
            ]
            for name, d in disk.items()
        ]
        lines += [
            "",
            "### Bytes on disk for the same exchanges",
            "",
            *_table(["scenario", "httpx_cassette", "vcrpy", "cassetter", "ours / vcrpy"], rows),
        ]
    return "\n".join(lines) + "\n"


def _bulk_ratio(bulk: dict[str, Any], name: str) -> float:
    """A recorder's bulk ratio to live: paired by round, or (runs before that) a ratio of medians."""
    row = bulk[name]
    return float(row["ratio"]) if "ratio" in row else row["total_ms"] / bulk[row["live"]]["total_ms"]
