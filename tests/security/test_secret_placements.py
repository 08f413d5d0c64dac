"""Evidence for issue 12 part 2: every place a credential hides, recorded for real, never reaches disk.

Each `Placement` (see placements.py) sends a fresh random secret through the OpenAI SDK or plain
httpx / httpx2 clients to the local server. Then either recording was refused with
`CassetteSecretError` and nothing was written, or the secret's bytes are in no file under the cassette
directory: not in the JSON, not in side files, not in base64 bodies once decoded and decompressed, in
no encoding (percent, form). Redacted placements replay (redaction happens before keying). And
`scan_directory` (what ``httpx-cassette scan`` runs) flags the secret planted by hand at the same place,
and nothing once the value is ``REDACTED``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main
from httpx_cassette.storage.scan import scan_directory
from tests.conftest import HAS_HTTPX2
from tests.security.placements import Ctx, Placement, assert_absent, cassette, hex32
from tests.security.table import PLACEMENTS
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

# -- running them -----------------------------------------------------------------------------------

API_KEY = "test-" + "key"


@pytest.fixture(scope="module")
def server() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app()) as live:
        yield live


def make_ctx(server: LiveServer[OpenAIApp], path: Path, mode: str, lib: str, options: dict[str, Any]) -> Ctx:
    options = dict(options)
    inner = options.pop("inner", None)

    def transport() -> CassetteTransport:
        return CassetteTransport(path, mode=mode, inner=inner() if inner else None, **options)  # type: ignore[arg-type]

    def base(userinfo: str | None) -> str:
        return f"http://{userinfo}@127.0.0.1:{server.port}" if userinfo else server.url

    def sdk(userinfo: str | None = None, headers: dict[str, str] | None = None) -> openai.OpenAI:
        http_client = httpx.Client(transport=transport())
        return openai.OpenAI(
            base_url=base(userinfo) + "/v1",
            api_key=API_KEY,
            max_retries=0,
            http_client=http_client,
            default_headers=headers,
        )

    def client(userinfo: str | None = None) -> Any:
        return __import__(lib).Client(transport=transport(), base_url=base(userinfo))

    return Ctx(sdk=sdk, client=client, canned=server.app.canned, replies=server.app.replies)


def _refusal(exc: BaseException | None) -> CassetteSecretError | None:
    while exc is not None and not isinstance(exc, CassetteSecretError):
        exc = exc.__cause__ or exc.__context__
    return exc


CASES = [
    pytest.param(
        p,
        lib,
        id=f"{p.name} [{lib}]",
        marks=[] if lib == "httpx" or HAS_HTTPX2 else [pytest.mark.skip("httpx2 missing")],
    )
    for p in PLACEMENTS
    for lib in (("httpx", "httpx2") if p.libraries else ("httpx",))
]


@pytest.mark.parametrize(("placement", "lib"), CASES)
def test_the_secret_never_reaches_disk(
    server: LiveServer[OpenAIApp], tmp_path: Path, placement: Placement, lib: str
) -> None:
    secret = placement.make()
    path = tmp_path / "cassette"
    try:
        placement.send(make_ctx(server, path, "record", lib, placement.options), secret)
        outcome = "redacted"
    except Exception as exc:
        if _refusal(exc) is None:
            raise
        outcome = "refused"
    assert outcome == placement.outcome
    if outcome == "refused":
        assert not path.exists() or [p for p in path.rglob("*") if p.is_file()] == []
        return
    assert [p for p in path.rglob("*.json")], "something was recorded"
    assert_absent(path, secret)
    assert scan_directory(path) == []  # what recording wrote, scan finds clean: one set of rules
    requests = server.app.stats.requests
    placement.send(make_ctx(server, path, "replay", lib, placement.options), secret)  # redacted before keying
    assert server.app.stats.requests == requests


@pytest.mark.parametrize("placement", PLACEMENTS, ids=[p.name for p in PLACEMENTS])
def test_scan_flags_the_secret_planted_by_hand(tmp_path: Path, placement: Placement) -> None:
    for value, expected in ((placement.make(), True), ("REDACTED", False)):
        folder = tmp_path / ("leaky" if expected else "clean")
        folder.mkdir()
        data, side = placement.plant(value)
        (folder / "planted.json").write_text(json.dumps(data))
        if side is not None:
            (folder / "planted.0.bin").write_bytes(side)
        findings = scan_directory(folder)
        assert bool(findings) is expected, findings


def test_converted_llama_stack_recordings_keep_no_secret_header(tmp_path: Path) -> None:
    secret = hex32()
    source, converted = tmp_path / "llama", tmp_path / "ours"
    source.mkdir()
    fixture = sorted((Path(__file__).parents[1] / "fixtures" / "llamastack").glob("*.json"))[0]
    recording = json.loads(fixture.read_text())
    recording["request"]["headers"] = {
        "api-key": secret,
        "X-Custom-Key": secret,
        "accept": "application/json",
    }
    (source / fixture.name).write_text(json.dumps(recording))
    assert scan_directory(source) != []  # the raw llama-stack file holds it, and scan says so
    assert cli_main(["convert", str(source), str(converted), "--from", "llama-stack"]) == 0
    assert_absent(converted, secret)
    assert scan_directory(converted) == []
    planted = cassette(response={"origin": {"format": "llama-stack", "rest": {"template": recording}}})
    (converted / "planted.json").write_text(json.dumps(planted))
    assert [f.path for f in scan_directory(converted / "planted.json")] == [
        "$.responses[0].origin.rest.template.request.headers.api-key",
        "$.responses[0].origin.rest.template.request.headers.X-Custom-Key",
    ]


def test_the_cli_scan_flags_every_placement_planted_by_hand(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for number, placement in enumerate(PLACEMENTS):
        folder = tmp_path / f"p{number:02}"
        folder.mkdir()
        data, side = placement.plant(placement.make())
        (folder / "planted.json").write_text(json.dumps(data))
        if side is not None:
            (folder / "planted.0.bin").write_bytes(side)
    assert cli_main(["scan", str(tmp_path)]) == 1
    flagged = {f.file.parent.name for f in scan_directory(tmp_path) if f.file is not None}
    assert flagged == {f"p{n:02}" for n in range(len(PLACEMENTS))}
    assert capsys.readouterr().out.strip().endswith("possible secrets found")
