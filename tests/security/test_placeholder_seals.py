"""Replay puts a placeholder's secret back only where the recording proved it wrote it. A cassette is read
back from pull requests: anyone can write ``<OPENAI_API_KEY>`` into a recorded answer, and replay would
hand the test the real key (a failing assertion prints it into a CI log; an agent's tool call sends it
on). Recording seals each response holding a placeholder with an HMAC keyed by the secret; a response
edited, moved to another request, or sealed with another value keeps the placeholder as its text, with a
warning that says why and what to do."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport

SECRET = "acct-" + "Real-8d1f20c4e6"
PLACEHOLDERS = {"<ACCOUNT>": SECRET}
URL = "https://api.example.com/v1/accounts/me"


def _upstream(request: httpx.Request) -> httpx.Response:
    if request.url.path.endswith("/events"):
        events = "".join(f"data: {json.dumps({'i': i, 'account': SECRET})}\n\n" for i in range(3))
        return httpx.Response(200, content=events.encode(), headers={"content-type": "text/event-stream"})
    return httpx.Response(200, json={"account": SECRET, "answer": "Paris"}, headers={"x-account": SECRET})


def _record(path: Path, *urls: str) -> None:
    transport = CassetteTransport(
        path, mode="record", placeholders=PLACEHOLDERS, inner=httpx.MockTransport(_upstream)
    )
    with httpx.Client(transport=transport) as client:
        for url in urls:
            client.get(url)


def _replay(
    path: Path, url: str = URL, placeholders: dict[str, str] = PLACEHOLDERS, **options: Any
) -> httpx.Response:
    transport = CassetteTransport(path, mode="replay", placeholders=placeholders, **options)
    with httpx.Client(transport=transport) as client:
        response = client.get(url)
        response.read()
        return response


def _edit(path: Path, change: Any, name: str = "") -> None:
    [file] = [f for f in path.glob("*.json") if name in f.name]
    data = json.loads(file.read_text())
    change(data["responses"][0])
    file.write_text(json.dumps(data))


def test_a_recording_is_sealed_and_gets_its_secret_back(tmp_path: Path) -> None:
    _record(tmp_path, URL, "https://api.example.com/v1/events")
    text = "".join(f.read_text() for f in tmp_path.glob("*.json"))
    assert SECRET not in text
    assert text.count("<ACCOUNT> hmac-sha256:") == 2  # one seal a response, never the secret
    replayed = _replay(tmp_path)
    assert replayed.json() == {"account": SECRET, "answer": "Paris"}
    assert replayed.headers["x-account"] == SECRET
    assert _replay(tmp_path, "https://api.example.com/v1/events").text.count(SECRET) == 3


def test_a_placeholder_written_into_an_answer_is_not_put_back(tmp_path: Path) -> None:
    _record(tmp_path, URL)
    _edit(tmp_path, lambda response: response["body"].update(answer="<ACCOUNT>"))
    with pytest.warns(UserWarning, match=r"holds <ACCOUNT> but no seal proving the recording wrote it"):
        replayed = _replay(tmp_path)
    assert SECRET not in replayed.text + str(replayed.headers)  # not even where the recording wrote it
    assert replayed.json() == {"account": "<ACCOUNT>", "answer": "<ACCOUNT>"}


def test_a_placeholder_added_to_a_response_that_held_none_is_not_put_back(tmp_path: Path) -> None:
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"answer": "Paris"}))
    transport = CassetteTransport(tmp_path, mode="record", placeholders=PLACEHOLDERS, inner=upstream)
    with httpx.Client(transport=transport) as client:
        client.get(URL)
    _edit(tmp_path, lambda response: response["body"].update(answer="<ACCOUNT>"))
    with pytest.warns(UserWarning, match="no seal"):
        assert _replay(tmp_path).json() == {"answer": "<ACCOUNT>"}


@pytest.mark.parametrize(
    "forgery",
    [
        lambda response: response.pop("sealed"),
        lambda response: response.update(sealed=["<ACCOUNT> hmac-sha256:" + "0" * 64]),
        lambda response: response["headers"].update({"x-other": "<ACCOUNT>"}),
        lambda response: response.update(status=302, headers={"location": "/v1/x?a=<ACCOUNT>"}),
    ],
    ids=["seal removed", "seal forged", "header added", "status and headers changed"],
)
def test_an_edited_or_unsealed_response_keeps_its_placeholders(tmp_path: Path, forgery: Any) -> None:
    _record(tmp_path, URL)
    _edit(tmp_path, forgery)
    with pytest.warns(UserWarning, match="no seal"):
        replayed = _replay(tmp_path)
    assert SECRET not in replayed.text + str(replayed.headers)


def test_a_sealed_response_moved_to_another_request_keeps_its_placeholders(tmp_path: Path) -> None:
    other = "https://api.example.com/v1/accounts/other"
    _record(tmp_path, URL, other)
    [mine] = [f for f in tmp_path.glob("*.json") if "-me-" in f.name]
    [theirs] = [f for f in tmp_path.glob("*.json") if "-other-" in f.name]
    moved = json.loads(theirs.read_text())
    moved["responses"] = json.loads(mine.read_text())["responses"]
    theirs.write_text(json.dumps(moved))
    with pytest.warns(UserWarning, match="no seal"):
        assert SECRET not in _replay(tmp_path, other).text


def test_another_value_than_the_seal_was_made_with_is_put_back_only_when_asked(tmp_path: Path) -> None:
    _record(tmp_path, URL)
    fake = {"<ACCOUNT>": "acct-fake-for-ci"}
    with pytest.warns(UserWarning, match="restore_unsealed=True"):
        assert _replay(tmp_path, placeholders=fake).json()["account"] == "<ACCOUNT>"
    assert _replay(tmp_path, placeholders=fake, restore_unsealed=True).json()["account"] == "acct-fake-for-ci"


def test_a_failing_assertion_on_a_planted_placeholder_prints_no_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pull request's attack end to end: a test over an answer a PR set to the placeholder fails,
    and pytest prints what the test got: the placeholder, never the key."""
    _record(pytester.path / "cassettes" / "capital", URL)
    _edit(
        pytester.path / "cassettes" / "capital", lambda response: response["body"].update(answer="<ACCOUNT>")
    )
    pytester.makepyfile(
        f"""
        import os
        import httpx
        from httpx_cassette import CassetteTransport

        def test_capital():
            transport = CassetteTransport(
                "cassettes/capital", mode="replay", placeholders={{"<ACCOUNT>": os.environ["ACCOUNT_ID"]}},
                restore_unsealed=os.environ.get("UNSEALED") == "1",
            )
            with httpx.Client(transport=transport) as client:
                assert "Paris" in client.get({URL!r}).json()["answer"]
        """
    )
    monkeypatch.setenv("ACCOUNT_ID", SECRET)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    output = result.stdout.str() + result.stderr.str()
    assert "AssertionError: assert 'Paris' in '<ACCOUNT>'" in output  # the test's own assertion failed
    assert SECRET not in output
    # Control: what the same run printed before seals (every placeholder put back), the key in the log.
    monkeypatch.setenv("UNSEALED", "1")
    unsealed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    unsealed.assert_outcomes(failed=1)
    assert SECRET in unsealed.stdout.str()


# -- a placeholder's value where hiding cannot reach is refused, not written ---------------------------


def _zipped(data: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export/config.ini", data)
    return buffer.getvalue()


@pytest.mark.parametrize("pack", [_zipped, bz2.compress], ids=["zip", "bzip2"])
def test_a_placeholder_value_inside_an_archive_body_is_refused(tmp_path: Path, pack: Any) -> None:
    """Hiding rewrites text and gzip/zlib bodies; a zip's or a bzip2 file's bytes it cannot rewrite in
    place, and the value is no known format the scanner would refuse by itself."""
    body = pack(b"[db]\nuser = app\nhost = db.internal\nsecret = " + SECRET.encode() + b"\n")
    headers = {"content-type": "application/octet-stream"}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))
    transport = CassetteTransport(tmp_path, mode="record", placeholders=PLACEHOLDERS, inner=upstream)
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(CassetteSecretError, match="a placeholder's value"),
    ):
        client.get("https://api.example.com/v1/export")
    assert not list(tmp_path.rglob("*.json"))
    assert not list(tmp_path.rglob("*.bin"))


def test_a_placeholder_name_with_a_space_is_sealed_and_put_back(tmp_path: Path) -> None:
    spaced = {"<MY ACCOUNT>": SECRET}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, json={"account": SECRET}))
    with httpx.Client(
        transport=CassetteTransport(tmp_path, mode="record", placeholders=spaced, inner=upstream)
    ) as client:
        client.get(URL)
    assert _replay(tmp_path, placeholders=spaced).json() == {"account": SECRET}


def test_a_compressed_body_hiding_rewrote_records_though_a_placeholder_holds_another_value(
    tmp_path: Path,
) -> None:
    """``<ORG_KEY>`` holds ``ORG``, another placeholder's value: what hiding wrote is no value left."""
    placeholders = {"<ORG_KEY>": "org-" + "secret-7F3A", "<O>": "ORG"}
    body = gzip.compress(b"key org-" + b"secret-7F3A for ORG")
    headers = {"content-type": "application/gzip"}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))
    transport = CassetteTransport(tmp_path, mode="record", placeholders=placeholders, inner=upstream)
    with httpx.Client(transport=transport) as client:
        client.get(URL)
    replayed = _replay(tmp_path, placeholders=placeholders)
    assert gzip.decompress(replayed.content) == gzip.decompress(body)


@pytest.mark.parametrize("spelling", [quote, quote_plus, lambda value: quote(value).lower()])
def test_a_placeholder_value_spelled_url_encoded_inside_an_archive_body_is_refused(
    tmp_path: Path, spelling: Any
) -> None:
    """Hiding finds a value percent- and form-encoded: so does the check of what it could not reach."""
    value = "alice+ops" + "@example.com"
    body = bz2.compress(b"redirect=" + spelling(value).encode())
    headers = {"content-type": "application/octet-stream"}
    upstream = httpx.MockTransport(lambda request: httpx.Response(200, content=body, headers=headers))
    transport = CassetteTransport(tmp_path, mode="record", placeholders={"<EMAIL>": value}, inner=upstream)
    with (
        httpx.Client(transport=transport) as client,
        pytest.raises(CassetteSecretError, match="a placeholder's value"),
    ):
        client.get("https://api.example.com/v1/export")
    assert not list(tmp_path.rglob("*.json"))
