"""Measures that are not a replay loop: the key of a 1 MB body, import cost, bytes on disk."""

from __future__ import annotations

import base64
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from httpx_cassette import CassetteTransport, key_of
from httpx_cassette.core.request import to_record

from .fixtures import Recorded

# ---------------------------------------------------------------------------------------- key of 1 MB


def big_request() -> httpx.Request:
    """A long conversation ending in an inline image: about 1 MB of JSON."""
    rng = random.Random(7)
    words = ["cassette", "replay", "stream", "token", "model", "offline", "httpx", "test", "record", "key"]
    messages: list[dict[str, object]] = [{"role": "system", "content": "You are a careful assistant."}]
    for i in range(300):
        text = " ".join(rng.choice(words) for _ in range(200))
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": f"{i}: {text}"})
    image = base64.b64encode(rng.randbytes(480_000)).decode()
    content = [
        {"type": "text", "text": "What is in this image?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
    ]
    messages.append({"role": "user", "content": content})
    body = {"model": "gpt-4o", "messages": messages, "temperature": 0.2, "max_tokens": 512}
    return httpx.Request(
        "POST",
        "https://api.openai.com/v1/chat/completions",
        headers={"content-type": "application/json"},
        content=json.dumps(body).encode(),
    )


def key_timings(rounds: int, per_round: int) -> dict[str, float]:
    """Median milliseconds: live request -> key (what every request pays), and stored request -> key."""
    request = big_request()
    transport = CassetteTransport(tempfile.mkdtemp(), mode="replay")
    record = to_record(request)
    live: list[float] = []
    stored: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(per_round):
            transport.key(request)
        live.append((time.perf_counter() - start) / per_round * 1000)
        start = time.perf_counter()
        for _ in range(per_round):
            key_of(record)
        stored.append((time.perf_counter() - start) / per_round * 1000)
    return {
        "bytes": len(request.content),
        "live_ms": statistics.median(live),
        "stored_ms": statistics.median(stored),
    }


# --------------------------------------------------------------------------------------------- import

IMPORTS = ("httpx_cassette", "respx", "vcr", "cassetter")
HEAVY = ("httpx2", "openai", "anthropic", "yaml", "anyio._backends._asyncio")


def _import_ms(module: str, env: dict[str, str]) -> float:
    code = (
        "import time, httpx; start = time.perf_counter(); "
        f"import {module}; print((time.perf_counter() - start) * 1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def import_timings(runs: int) -> dict[str, float]:
    """Median ms each module adds to ``import httpx``, each in a fresh interpreter with warm bytecode.

    Bytecode goes to a private cache (PYTHONPYCACHEPREFIX) filled by a first, dropped run, so every
    package is measured as users run it (with .pyc files) without writing into the source tree.
    """
    cache = tempfile.mkdtemp(prefix="bench-pyc-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    for module in IMPORTS:
        _import_ms(module, env)
    samples: dict[str, list[float]] = {m: [] for m in IMPORTS}
    for _ in range(runs):
        for module in IMPORTS:
            samples[module].append(_import_ms(module, env))
    return {m: statistics.median(v) for m, v in samples.items()}


def heavy_imports() -> list[str]:
    """Modules ``import httpx_cassette`` should leave alone, that it imported anyway."""
    code = f"import sys, httpx_cassette; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return out.stdout.split()


# ----------------------------------------------------------------------------------------------- disk


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size


def disk_bytes(recorded: dict[str, Recorded]) -> dict[str, dict[str, int]]:
    """Scenario -> contender -> bytes its recording of that one exchange takes."""
    return {
        name: {
            "httpx_cassette": _size(rec.ours),
            "vcrpy": _size(rec.vcrpy),
            "cassetter": _size(rec.cassetter),
        }
        for name, rec in recorded.items()
    }
