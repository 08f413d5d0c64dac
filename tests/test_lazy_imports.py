"""`import httpx_cassette` stays cheap: SDKs, httpx2 and optional features are imported when first used.

Checked in a fresh interpreter, against what ``import httpx`` alone loads (a test suite imports httpx
anyway). Timing is the benchmark's job (benchmarks/run.py); this pins which modules are loaded.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import httpx

import httpx_cassette

# Each is needed by one feature only: an httpx2 request, an SDK, vcrpy conversion, the CLI's colours,
# paced async replay, multipart bodies (email.policy; httpx itself already loads email.parser).
LAZY = ("httpx2", "openai", "anthropic", "yaml", "vcr", "rich", "anyio", "email.policy")
# The CLI's inspection and diff code (and the statistics it computes) load only for the CLI.
CLI_ONLY = ("httpx_cassette.cli", "statistics")
# A miss's diagnosis (its diff, its advice, difflib's "did you mean") loads at the first miss.
MISS_ONLY = ("httpx_cassette.core.miss", "httpx_cassette.core.advice", "difflib")
# Other recorders' formats load when a directory holds such a file, or format= asks for one.
FORMATS = "httpx_cassette.formats"
LLAMA_STACK = Path(__file__).parent / "fixtures" / "llamastack"

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
    assert [m for m in loaded if m in MISS_ONLY] == []
    assert [m for m in loaded if m == FORMATS or m.startswith(f"{FORMATS}.")] == []
    assert [m for m in loaded if m.startswith(CLI_ONLY[0])] == []


# Replays a request from the directory argv[1] (a miss is fine: it reads every file), printing
# whether a format adapter was loaded before the directory was read and after.
_READ_PROBE = """
import json, sys
import httpx
import httpx_cassette

def adapters():
    return sorted(m for m in sys.modules if m.startswith("httpx_cassette.formats"))

client = httpx.Client(transport=httpx_cassette.CassetteTransport(sys.argv[1], "replay"))
before = adapters()
try:
    client.get("http://api.example/v1/never-recorded")
except httpx_cassette.CassetteMiss:
    pass
print(json.dumps([before, adapters()]))
"""


def _adapters_around_a_read(directory: Path) -> tuple[list[str], list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", _READ_PROBE, str(directory)], check=True, capture_output=True, text=True
    )
    before, after = json.loads(out.stdout)
    return before, after


def test_a_llama_stack_directory_loads_its_adapter_only_when_read(tmp_path: Path) -> None:
    for file in LLAMA_STACK.glob("*.json"):
        shutil.copy(file, tmp_path)
    before, after = _adapters_around_a_read(tmp_path)
    assert before == []
    assert "httpx_cassette.formats.llamastack" in after


def test_a_directory_of_our_own_files_never_loads_an_adapter(tmp_path: Path) -> None:
    recorder = httpx_cassette.CassetteTransport(
        tmp_path, "record", inner=httpx.MockTransport(lambda _: httpx.Response(200, json={"ok": True}))
    )
    with httpx.Client(transport=recorder) as client:
        assert client.get("http://api.example/v1/models").json() == {"ok": True}
    assert len(list(tmp_path.glob("*.json"))) == 1
    assert _adapters_around_a_read(tmp_path) == ([], [])
