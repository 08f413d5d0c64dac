"""File names and files a pull request can add: every error and warning escapes what a terminal must
not get, a name that is no UTF-8 reaches JSON outputs as an escape (no crash), and a file added beside
a reviewed one for the same request is refused, whatever its format."""

from __future__ import annotations

import io
import json
import os
import shutil
import warnings
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteAgeWarning, CassetteExpired, CassetteFormatError, CassetteTransport
from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console

ESC = "\x1b]0;PWNED\x07"  # OSC 0: sets the terminal's title; any ESC sequence would do
URL = "https://api.example.com/v1/x"


def _recorded(path: Path) -> Path:
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(path, mode="record", inner=upstream)) as client:
        client.get(URL)
    (file,) = path.glob("*.json")
    return file


def _replay(path: Path, **options: object) -> httpx.Response:
    with httpx.Client(transport=CassetteTransport(path, mode="replay", **options)) as client:  # type: ignore[arg-type]
        return client.get(URL)


def test_a_twin_named_with_an_escape_is_named_escaped(tmp_path: Path) -> None:
    file = _recorded(tmp_path)  # both renamed: the request's own name would be found without a listing
    shutil.copy(file, tmp_path / f"{ESC}-000000000001.json")
    file.rename(tmp_path / "get-x-000000000000.json")
    with pytest.raises(CassetteFormatError, match="holds the same request as") as caught:
        _replay(tmp_path)
    assert "\x1b" not in str(caught.value)
    assert "\\x1b]0;PWNED\\x07" in str(caught.value)


def test_a_missing_side_file_named_with_an_escape_is_named_escaped(tmp_path: Path) -> None:
    file = _recorded(tmp_path)
    data = json.loads(file.read_text())
    stem = f"get-x-{ESC}000000000000"
    data["responses"][0] = {"status": 200, "headers": {}, "body_file": f"{stem}.0.bin"}
    file.unlink()
    (tmp_path / f"{stem}.json").write_text(json.dumps(data))
    with pytest.raises(CassetteFormatError) as caught:
        _replay(tmp_path)
    assert "\x1b" not in str(caught.value)
    assert "\\x1b" in str(caught.value)


def test_the_age_warning_and_its_strict_error_name_the_file_escaped(tmp_path: Path) -> None:
    file = _recorded(tmp_path)
    data = json.loads(file.read_text())
    data["meta"]["recorded_at"] = "2001-01-01T00:00:00+00:00"
    file.unlink()
    (tmp_path / f"get-x-{ESC}{file.name[-17:]}").write_text(json.dumps(data))
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _replay(tmp_path, max_age=86400)
    (warning,) = [w.message for w in seen if isinstance(w.message, CassetteAgeWarning)]
    assert "was recorded" in str(warning)
    assert "\x1b" not in str(warning)
    with pytest.raises(CassetteExpired) as caught:
        _replay(tmp_path, max_age=86400, strict_age=True)
    assert "\x1b" not in str(caught.value)


def test_ls_json_writes_a_name_that_is_no_utf8_as_an_escape(tmp_path: Path) -> None:
    file = _recorded(tmp_path)
    name = b"get-x-\xff\xfe-" + os.fsencode(file.name)[-17:]
    os.rename(os.fsencode(file), os.fsencode(tmp_path) + b"/" + name)
    out = io.StringIO()
    code = cli_main(["ls", "--json", str(tmp_path)], console=Console(out=out, err=io.StringIO()))
    assert code == 0
    assert '"get-x-\\udcff\\udcfe-' in out.getvalue()  # JSON escapes
    (listed,) = json.loads(out.getvalue())
    assert os.fsencode(listed["file"]) == name  # the name back, byte for byte


def test_the_usage_report_names_a_folder_that_is_no_utf8(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a="import pytest\n\n@pytest.mark.cassette\ndef test_one():\n    pass\n")
    folder = os.fsencode(pytester.path / "cassettes" / "test_a") + b"/test_\xff"
    os.makedirs(folder)
    with open(folder + b"/get-x-000000000000.json", "w") as handle:
        handle.write('{"request": {"method": "GET", "url": "https://a.b/x"}, "responses": []}')
    result = pytester.runpytest_inprocess(
        "-p",
        "no:cacheprovider",
        "-p",
        "no:recording",
        "-p",
        "no:cassetter",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        "--cassette-report",
        "usage.json",
    )
    assert "INTERNALERROR" not in result.stdout.str()
    result.assert_outcomes(passed=1)
    report = json.loads((pytester.path / "usage.json").read_text())
    assert report["unused_directories"] == ["cassettes/test_a/test_\\udcff"]  # escaped, never a crash


def test_a_llama_stack_file_for_the_same_request_as_a_file_of_ours_is_refused(tmp_path: Path) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
    url = "https://api.openai.com/v1/chat/completions"
    message = {"role": "assistant", "content": "REVIEWED"}
    answer = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"message": message}],
    }
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, json=answer))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post(url, json=body)
    for file in tmp_path.glob("post-*.json"):  # a name that is not its key's: every file is read
        file.rename(tmp_path / "post-v1-chat-completions-000000000000.json")
    shadow = {**answer, "choices": [{"message": {**message, "content": "SHADOW"}}]}
    llama = {
        "request": {
            "method": "POST",
            "url": url,
            "endpoint": "/v1/chat/completions",
            "headers": {},
            "body": body,
        },
        "response": {
            "body": {"__type__": "openai.types.chat.chat_completion.ChatCompletion", "__data__": shadow},
            "is_streaming": False,
        },
    }
    (tmp_path / "0.json").write_text(json.dumps(llama))
    with httpx.Client(transport=CassetteTransport(tmp_path)) as client:
        with pytest.raises(CassetteFormatError, match="holds the same request as"):
            client.post(url, json=body)
        for file in tmp_path.glob("post-*.json"):  # alone, the llama-stack file replays
            file.unlink()
    with httpx.Client(transport=CassetteTransport(tmp_path)) as client:
        assert client.post(url, json=body).json()["choices"][0]["message"]["content"] == "SHADOW"
