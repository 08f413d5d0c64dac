"""A cassette file that cannot be read as its format says is never taken for something else: one cut
short is not called clean by ``scan`` (its bodies were never decoded), and one in a later format version
is refused by replay and ``verify`` rather than read the old way."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteFormatError, CassetteTransport

KEY = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" + "Q7rS0tU3vW6x"


def _cli(*args: str) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-m", "httpx_cassette", *args], capture_output=True, text=True)
    return done.returncode, done.stdout + done.stderr


def _file(version: int = 1) -> str:
    body = base64.b64encode(json.dumps({"note": KEY}).encode()).decode()
    return json.dumps(
        {
            "version": version,
            "request": {"method": "GET", "url": "http://api.test/v1/thing"},
            "responses": [
                {"status": 200, "headers": {"content-type": "application/octet-stream"}, "base64": body}
            ],
        },
        indent=2,
    )


def test_a_file_cut_short_is_not_called_clean(tmp_path: Path) -> None:
    (tmp_path / "get-thing-aaaaaaaaaaaa.json").write_text(_file()[:-3])
    code, said = _cli("scan", str(tmp_path))
    assert code == 1
    assert "a file that is no JSON (Input data was truncated), read as text only not checked" in said
    assert "1 place not checked" in said


@pytest.mark.parametrize("version", [2, 99, 0])
def test_a_file_in_a_format_version_this_release_does_not_read_is_refused(
    tmp_path: Path, version: int
) -> None:
    (tmp_path / "get-thing-aaaaaaaaaaaa.json").write_text(_file(version).replace(KEY, "no key"))
    with (
        httpx.Client(transport=CassetteTransport(tmp_path)) as client,
        pytest.raises(CassetteFormatError) as bad,
    ):
        client.get("http://api.test/v1/thing")
    assert f"it says cassette format version {version}" in str(bad.value)
    assert ("upgrade httpx_cassette" in str(bad.value)) == (version > 1)
    code, said = _cli("verify", str(tmp_path))
    assert code == 1
    assert f"version {version}" in said


def test_a_later_format_whose_fields_changed_shape_names_its_version(tmp_path: Path) -> None:
    data = json.loads(_file(2).replace(KEY, "no key"))
    data["responses"][0]["status"] = {"code": 200}  # what a later format may write
    (tmp_path / "get-thing-aaaaaaaaaaaa.json").write_text(json.dumps(data))
    with (
        httpx.Client(transport=CassetteTransport(tmp_path)) as client,
        pytest.raises(CassetteFormatError) as bad,
    ):
        client.get("http://api.test/v1/thing")
    assert "it says cassette format version 2" in str(bad.value)
    assert "upgrade httpx_cassette" in str(bad.value)
