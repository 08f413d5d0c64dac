"""Credentials in the corners of a URL: an OAuth fragment (``#access_token=...``), a URL percent-encoded
inside another URL (``?src=https%3A%2F%2F...``), a token as the userinfo user name, and URLs inside a
User-Agent. Through the public API (recorded files, `CassetteSecretError`), then the finders of
`httpx_cassette.core.places` directly for the edge cases.

Fake credentials are built at run time, so no credential-looking literal sits in the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.core.places import (
    URL_IN_TEXT,
    free_text_secrets,
    redact_url,
    redact_urls_in_text,
    scrub_free_text,
    url_secrets,
)

REDACTED = "REDACTED"
GITHUB_TOKEN = "ghp_" + "A1b2" * 9
# 40 characters of random look (mixed case and digits), no known prefix.
RANDOM_TOKEN = "Zq8Xv2Lm9P" + "w4Rt7Ys1Kd" + "6Nf3Hj5Bc0" + "Ga8Ue2Wi7o"
HEX_SIGNATURE = "3f9a1c7e5b2d8046" * 4
OAUTH_TOKEN = "ya29.a0AfH6SMBx" + "7Lm2Pz9Rt4Vb8Nc"
PASSWORD = "hunter2" + "pass"

Handler = Callable[[httpx.Request], httpx.Response]


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def _record(tmp_path: Path, handler: Handler, call: Callable[[httpx.Client], object]) -> str:
    """Record through `CassetteTransport`; every file written, as one text."""
    directory = tmp_path / "c"
    transport = CassetteTransport(directory, mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        call(client)
    return "\n".join(p.read_text() for p in sorted(directory.rglob("*")) if p.is_file())


def _refused(tmp_path: Path, handler: Handler, call: Callable[[httpx.Client], object]) -> None:
    """Recording raises `CassetteSecretError`, and no file is written."""
    with pytest.raises(CassetteSecretError):
        _record(tmp_path, handler, call)
    assert not [p for p in (tmp_path / "c").rglob("*") if p.is_file()]


def _nest(url: str, levels: int) -> str:
    """``url`` percent-encoded as the ``src`` parameter of another URL, ``levels`` times over."""
    for _ in range(levels):
        url = "https://view.example.com/embed?src=" + quote(url, safe="")
    return url


def _presigned() -> str:
    return (
        "https://bucket.s3.amazonaws.com/report.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        f"&X-Amz-Expires=600&X-Amz-Signature={HEX_SIGNATURE}"
    )


# -- through recording -------------------------------------------------------------------------------


def test_fragment_token_in_the_request_url_is_stored_redacted(tmp_path: Path) -> None:
    # An absolute URL: httpx drops the fragment of a path merged with base_url.
    url = f"https://api.example.com/cb#access_token={OAUTH_TOKEN}&token_type=bearer&state=x%7Ey"
    stored = _record(tmp_path, _ok, lambda c: c.get(url))
    assert OAUTH_TOKEN not in stored
    assert f"https://api.example.com/cb#access_token={REDACTED}&token_type=bearer&state=x%7Ey" in stored


def test_fragment_token_in_a_url_in_a_json_body_is_refused(tmp_path: Path) -> None:
    link = f"https://app.example.com/cb#access_token={OAUTH_TOKEN}&token_type=bearer"
    _refused(
        tmp_path, lambda r: httpx.Response(200, json={"redirect_to": link}), lambda c: c.get("/authorize")
    )


def test_fragment_token_in_a_redirect_location_is_refused(tmp_path: Path) -> None:
    def redirect(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/authorize":
            location = f"https://api.example.com/cb#id_token={HEX_SIGNATURE}&state=xyz"
            return httpx.Response(302, headers={"location": location})
        return httpx.Response(200, json={})

    _refused(tmp_path, redirect, lambda c: c.get("/authorize", follow_redirects=True))


def test_presigned_url_inside_a_request_query_is_redacted_and_replays(tmp_path: Path) -> None:
    stored = _record(tmp_path, _ok, lambda c: c.get("/viewer", params={"src": _presigned()}))
    assert HEX_SIGNATURE not in stored
    assert "X-Amz-Signature%3D" + REDACTED in stored
    assert "X-Amz-Expires%3D600" in stored  # the rest of the inner URL is kept
    replay = CassetteTransport(tmp_path / "c", mode="replay")
    with httpx.Client(transport=replay, base_url="https://api.example.com") as client:
        assert client.get("/viewer", params={"src": _presigned()}).json() == {"ok": True}


def test_presigned_url_encoded_inside_a_url_in_a_json_body_is_refused(tmp_path: Path) -> None:
    preview = "https://view.example.com/embed?src=" + quote(_presigned(), safe="")
    _refused(
        tmp_path, lambda r: httpx.Response(200, json={"preview": preview}), lambda c: c.get("/v1/files/1")
    )


def test_token_as_the_url_user_name_in_a_request_is_redacted(tmp_path: Path) -> None:
    url = f"https://{GITHUB_TOKEN}@git.example.com/org/repo.git/info/refs"
    stored = _record(tmp_path, _ok, lambda c: c.get(url))
    assert GITHUB_TOKEN not in stored
    assert f"https://{REDACTED}@git.example.com/org/repo.git/info/refs" in stored


def test_random_token_as_the_url_user_name_in_a_json_body_is_refused(tmp_path: Path) -> None:
    remote = f"https://{RANDOM_TOKEN}@git.example.com/org/repo.git"
    _refused(tmp_path, lambda r: httpx.Response(200, json={"remote": remote}), lambda c: c.get("/v1/repo"))


def test_plain_user_names_in_urls_are_recorded(tmp_path: Path) -> None:
    body = {"https": "https://alice@git.example.com/org/repo.git", "ssh": "ssh://git@github.com/org/repo"}
    stored = _record(tmp_path, lambda r: httpx.Response(200, json=body), lambda c: c.get("/v1/repo"))
    assert body["https"] in stored
    assert body["ssh"] in stored


@pytest.mark.parametrize(
    ("user_agent", "expected"),
    [
        (
            "mybot/1.0 (+https://example.com/bot?key={secret})",
            f"mybot/1.0 (+https://example.com/bot?key={REDACTED})",
        ),
        ("mybot/1.0 (+https://bot:{secret}@example.com)", f"mybot/1.0 (+https://bot:{REDACTED}@example.com)"),
        (
            "mybot/1.0 (+https://example.com/cb#access_token={secret})",
            f"mybot/1.0 (+https://example.com/cb#access_token={REDACTED})",
        ),
    ],
)
def test_urls_in_the_user_agent_are_stored_redacted(tmp_path: Path, user_agent: str, expected: str) -> None:
    agent = user_agent.format(secret=PASSWORD)
    stored = _record(tmp_path, _ok, lambda c: c.get("/v1/x", headers={"user-agent": agent}))
    assert PASSWORD not in stored
    assert f'"user_agent": "{expected}"' in stored


def test_urls_in_a_stored_error_message_are_redacted(tmp_path: Path) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)

    url = "/v1/open?next=" + quote(f"https://idp.example.com/cb#access_token={OAUTH_TOKEN}", safe="")
    with pytest.raises(httpx.ConnectError):
        _record(tmp_path, failing, lambda c: c.get(url))
    stored = "\n".join(p.read_text() for p in (tmp_path / "c").rglob("*") if p.is_file())
    assert OAUTH_TOKEN not in stored
    assert REDACTED in stored


# -- the finders ---------------------------------------------------------------------------------------


def test_a_fragment_without_secrets_is_kept_byte_for_byte() -> None:
    for url in (
        "https://a.example.com/p#section",
        "https://a.example.com/p#L10-L20",
        "https://a.example.com/cb#a=%7Efoo&b=x+y&state=%2F",
        "https://a.example.com/p#:~:text=hello",
    ):
        assert url_secrets(url) == []
        assert redact_url(url) == url


def test_a_fragment_secret_is_redacted_and_the_rest_kept_byte_for_byte() -> None:
    url = f"https://a.example.com/cb#state=x%7Ey+z&access_token={OAUTH_TOKEN}&token_type=bearer&x"
    assert url_secrets(url) == [("secret fragment parameter 'access_token'", OAUTH_TOKEN)]
    assert (
        redact_url(url)
        == f"https://a.example.com/cb#state=x%7Ey+z&access_token={REDACTED}&token_type=bearer&x"
    )


def test_a_hash_route_with_a_query_in_the_fragment_is_redacted() -> None:
    url = f"https://a.example.com/#/login?x=1&token={OAUTH_TOKEN}"
    assert [value for _, value in url_secrets(url)] == [OAUTH_TOKEN]
    assert redact_url(url) == f"https://a.example.com/#/login?x=1&token={REDACTED}"


@pytest.mark.parametrize(
    "url",
    [
        "https://alice@host.example.com/x",
        "ssh://git@github.com/org/repo",
        "https://x-access-token@github.com/org/repo",
        "https://deploy-bot-20240101@host.example.com/",
        "https://JohnSmith1990abcdef@host.example.com/",
        "https://alice%40example.com@host.example.com/",
        "https://0f8fad5b-d9cb-469f-a165-70867728950e@host.example.com/",
    ],
)
def test_plain_user_names_are_kept(url: str) -> None:
    assert url_secrets(url) == []
    assert redact_url(url) == url


@pytest.mark.parametrize("token", [GITHUB_TOKEN, RANDOM_TOKEN, HEX_SIGNATURE[:40]])
def test_a_token_as_the_user_name_is_found_and_redacted(token: str) -> None:
    url = f"https://{token}@git.example.com/org/repo.git"
    assert url_secrets(url) == [("token as the user name in a URL", token)]
    assert redact_url(url) == f"https://{REDACTED}@git.example.com/org/repo.git"
    with_password = f"https://{token}:x-oauth-basic@git.example.com/"
    assert [value for _, value in url_secrets(with_password)] == [token, "x-oauth-basic"]
    assert redact_url(with_password) == f"https://{REDACTED}:{REDACTED}@git.example.com/"


def test_a_nested_url_is_redacted_and_the_rest_kept_byte_for_byte() -> None:
    outer = "https://a.example.com/v?a=%7E1&src=" + quote(_presigned(), safe="") + "&z=x+y#top"
    assert [value for _, value in url_secrets(outer)] == [HEX_SIGNATURE]
    redacted = redact_url(outer)
    assert (
        redacted
        == "https://a.example.com/v?a=%7E1&src="
        + quote(_presigned().replace(HEX_SIGNATURE, REDACTED), safe="")
        + "&z=x+y#top"
    )
    assert redact_url(redacted) == redacted  # redaction is stable: replay redacts the same way


def test_a_nested_url_encoded_with_slashes_keeps_its_slashes() -> None:
    outer = "https://a.example.com/v?src=" + quote(_presigned())
    assert redact_url(outer) == "https://a.example.com/v?src=" + quote(
        _presigned().replace(HEX_SIGNATURE, REDACTED)
    )


def test_a_relative_return_url_is_examined() -> None:
    url = "https://a.example.com/login?next=" + quote(f"/cb?code={PASSWORD}&x=1", safe="")
    assert [value for _, value in url_secrets(url)] == [PASSWORD]
    assert redact_url(url) == "https://a.example.com/login?next=" + quote(f"/cb?code={REDACTED}&x=1", safe="")


@pytest.mark.parametrize("levels", [0, 1, 2, 3])
def test_nested_urls_are_examined_three_levels_down(levels: int) -> None:
    url = _nest(f"https://b.example.com/y?key={PASSWORD}", levels)
    assert [value for _, value in url_secrets(url)] == [PASSWORD]
    assert PASSWORD not in redact_url(url)


def test_nesting_deeper_than_three_levels_is_not_examined() -> None:
    url = _nest(f"https://b.example.com/y?key={PASSWORD}", 4)
    assert url_secrets(url) == []
    assert redact_url(url) == url


def test_a_percent_encoded_url_in_text_is_found_and_redacted() -> None:
    encoded = quote(f"https://b.example.com/y?key={PASSWORD}&v=2", safe="")
    text = f"see {encoded}&other=1 (or {encoded.lower().replace('%3f', '%3F')})."
    assert URL_IN_TEXT.findall(text)[0] == encoded  # the literal "&" belongs to the text
    assert PASSWORD in free_text_secrets(text)
    redacted = redact_urls_in_text(text)
    assert PASSWORD not in redacted
    assert redacted.startswith(
        "see " + quote(f"https://b.example.com/y?key={REDACTED}&v=2", safe="") + "&other=1 (or "
    )
    assert redacted.endswith(").")


def test_a_url_in_text_ends_before_closing_punctuation() -> None:
    assert URL_IN_TEXT.findall("(+https://example.com/bot), and https://x.example.com/a.") == [
        "https://example.com/bot",
        "https://x.example.com/a",
    ]


def test_scrub_free_text_and_free_text_secrets_agree_on_urls() -> None:
    agents = [
        f"mybot/1.0 (+https://example.com/bot?key={PASSWORD})",
        f"mybot/1.0 (+https://bot:{PASSWORD}@example.com/)",
        f"mybot/1.0 (+https://{RANDOM_TOKEN}@example.com/)",
        f"mybot/1.0 (+https://example.com/cb#id_token={PASSWORD}&state=1)",
        "mybot/1.0 (+" + quote(f"https://example.com/bot?api_key={PASSWORD} x", safe="") + ")",
    ]
    for agent in agents:
        assert free_text_secrets(agent), agent
        scrubbed = scrub_free_text(agent)
        assert PASSWORD not in scrubbed
        assert RANDOM_TOKEN not in scrubbed
        assert REDACTED in scrubbed
        assert scrubbed.startswith("mybot/1.0 (+")
        assert scrubbed.endswith(")")
        assert free_text_secrets(scrubbed) == []


def test_what_redaction_leaves_the_finder_does_not_report() -> None:
    urls = [
        f"https://{GITHUB_TOKEN}:{PASSWORD}@h.example.com/p?token={OAUTH_TOKEN}#access_token={PASSWORD}",
        _nest(_presigned(), 3),
        "https://a.example.com/v?next=" + quote(_nest(f"/cb#code={PASSWORD}", 1), safe=""),
        quote(f"https://a.example.com/?sig={PASSWORD}", safe=""),
    ]
    for url in urls:
        assert url_secrets(url), url
        assert url_secrets(redact_url(url)) == [], url
