"""`import httpx_cassette` stays cheap: SDKs, httpx2 and optional features are imported when first used.

Checked in a fresh interpreter, against what ``import httpx`` alone loads (a test suite imports httpx
anyway). Timing is the benchmark's job (benchmarks/run.py); this pins which modules are loaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Each is needed by one feature only: an httpx2 request, an SDK, vcrpy conversion, the CLI's colours,
# paced async replay, multipart bodies (email.policy; httpx itself already loads email.parser).
LAZY = ("httpx2", "openai", "anthropic", "yaml", "vcr", "rich", "anyio", "email.policy")
# The CLI's inspection and diff code (and the statistics it computes) load only for the CLI.
CLI_ONLY = ("httpx_cassette.cli", "statistics")

_PROBE = """
import json, sys
import httpx
before = set(sys.modules)
import httpx_cassette
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _imported_by_package() -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE], check=True, capture_output=True, text=True)
    loaded: list[str] = json.loads(out.stdout)
    return loaded


def test_import_loads_no_sdk_httpx2_or_optional_feature() -> None:
    loaded = _imported_by_package()
    assert "httpx_cassette" in loaded  # the probe did import the package
    assert [m for m in loaded if m in LAZY or m.split(".", 1)[0] in LAZY] == []
    assert [m for m in loaded if m in CLI_ONLY] == []
