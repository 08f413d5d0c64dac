"""The rules of `httpx_cassette.core.secrets` at their edges: the token alphabet of a *maybe* name (SAS
tokens, a trailing newline, percent-encoding), the pagination exemption (``page_access_token`` is no
cursor), a secret header sent twice, PGP and Slack formats, and what counts as a placeholder. Through
the public API (the recorded file, `CassetteSecretError`), then the rule functions directly, for what
they catch and for the ordinary values they leave alone.

Fake credentials are built at run time, so no credential-looking literal sits in the repository.
"""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.core.redact import response_headers
from httpx_cassette.core.secrets import (
    REDACTED,
    high_entropy,
    is_placeholder,
    known_format,
    secret_named,
    secret_value,
    token_like,
)
from httpx_cassette.storage.scan import scan_directory

TOKEN = "Xq7Lm2Pz9Rt4" + "Vb8Nc3Kd6Wf1Hj5Gs0Ya"
HEX_TOKEN = "3f9a1c7e5b2d8046" + "af13c9e7b5d20864"
SAS_SIG = "Zk3%2BqL9mP2xR7tV4bN8" + "cD1fG6hJ0kW5sY3aE2uI9oQ%3D"
SAS = "sv=2022-11-02&ss=b&srt=sco&sp=rl&se=2026-01-01T00:00:00Z&sig=" + SAS_SIG
PERCENT_TOKEN = "Zk3%2BqL9mP2x" + "%2F7tV4bN8cD1"
PAGE_TOKEN = "EAAGm0PX4ZCps" + "BAKZCq7Lm2Pz9Rt4Vb8Nc3Kd6Wf1Hj5Gs"
AWS_KEY_ID = "AKIA" + "Q3EXAMPLE7ZT4WB2"
GITHUB_TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" + "kLmNoPqRsTuVwXyZ"
PGP_BODY = "lQOYBGXq7Lm2Pz9Rt4Vb8" + "Nc3Kd6Wf1Hj5Gs0YaEAC"
PGP_KEY = (
    "-----BEGIN PGP "
    + "PRIVATE KEY BLOCK-----\n\n"
    + PGP_BODY
    + "\n=abcd\n-----END PGP PRIVATE KEY BLOCK-----\n"
)
PASSWORD = "hunter2" + "pw"

Handler = Callable[[httpx.Request], httpx.Response]


def _ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"ok": True})


def _answer(**kwargs: Any) -> Handler:
    return lambda request: httpx.Response(200, **kwargs)


def record(path: Path, handler: Handler, send: Callable[[httpx.Client], object]) -> str:
    """``send(client)`` recorded through ``handler``; the text of the one cassette file written."""
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(handler))
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        send(client)
    [file] = path.glob("*.json")
    return file.read_text()


def refused(path: Path, handler: Handler, send: Callable[[httpx.Client], object]) -> None:
    """Recording ``send(client)`` is refused, and nothing is written."""
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(handler))
    with (
        httpx.Client(transport=transport, base_url="https://api.example.com") as client,
        pytest.raises(CassetteSecretError),
    ):
        send(client)
    assert not list(path.glob("*.json"))


def _get(client: httpx.Client) -> object:
    return client.get("/v1/x")


# -- F4: a maybe name's value is judged stripped, over any characters but spaces -----------------------


@pytest.mark.parametrize(
    ("body", "secret"),
    [
        ({"sas_token": SAS}, SAS_SIG),  # Azure SAS: holds &, % and =
        ({"access_token": TOKEN + "\n", "token_type": "bearer"}, TOKEN),  # read from a file
        ({"upload": {"token": "  " + TOKEN + "  "}}, TOKEN),
    ],
    ids=["sas-token", "trailing-newline", "surrounding-spaces"],
)
def test_a_token_with_any_characters_under_a_maybe_name_is_redacted(
    tmp_path: Path, body: dict[str, Any], secret: str
) -> None:
    text = record(tmp_path, _answer(json=body), _get)
    assert secret not in text
    assert REDACTED in text


def test_a_percent_encoded_token_in_a_response_header_is_redacted(tmp_path: Path) -> None:
    text = record(tmp_path, _answer(json={}, headers={"x-access-token": PERCENT_TOKEN}), _get)
    assert PERCENT_TOKEN not in text
    assert json.loads(text)["responses"][0]["headers"]["x-access-token"] == REDACTED


def test_ordinary_content_under_maybe_names_is_kept(tmp_path: Path) -> None:
    body = {
        "logprobs": [{"token": " Hello", "logprob": -0.1}, {"token": "\n", "logprob": -2.0}],
        "max_tokens": 1024,
        "usage": {"input_tokens": 12, "output_tokens": 34},
        "key": "short-Key-1",
        "token": "a phrase With 16 or more chars",
    }
    text = record(tmp_path, _answer(json=body), _get)
    assert json.loads(text)["responses"][0]["body"] == body


@pytest.mark.parametrize(
    "value",
    [SAS, TOKEN + "\n", "\t" + TOKEN, PERCENT_TOKEN, HEX_TOKEN, "a1b2c3d4e5f6g7h8"],
)
def test_token_like_catches_tokens_of_any_alphabet(value: str) -> None:
    assert token_like(value)


@pytest.mark.parametrize(
    "value",
    [
        " Hello",
        "short-Key-1",  # under 16 characters
        "a phrase With 16 or more chars",  # a space inside
        "all-lower-case-words-only",  # one character class
        "ALL_UPPER_CASE_CONSTANT",
        "   ",
        "",
    ],
)
def test_token_like_leaves_ordinary_values(value: str) -> None:
    assert not token_like(value)


# -- F5: only pagination-shaped names are exempt ------------------------------------------------------


def test_a_page_access_token_is_redacted_in_a_body_and_in_the_query(tmp_path: Path) -> None:
    text = record(
        tmp_path,
        _answer(json={"id": "1234", "page_access_token": PAGE_TOKEN}),
        lambda client: client.get("/v19.0/me/messages", params={"page_access_token": PAGE_TOKEN}),
    )
    assert PAGE_TOKEN not in text
    stored = json.loads(text)
    assert stored["request"]["url"].endswith("page_access_token=REDACTED")
    assert stored["responses"][0]["body"]["page_access_token"] == REDACTED


def test_pagination_cursors_are_kept(tmp_path: Path) -> None:
    body = {"next_page_token": TOKEN, "nextPageToken": TOKEN, "next_cursor": TOKEN, "csrf_token": TOKEN}
    text = record(
        tmp_path, _answer(json=body), lambda client: client.get("/v1/items", params={"pageToken": TOKEN})
    )
    stored = json.loads(text)
    assert stored["responses"][0]["body"] == body
    assert stored["request"]["url"].endswith("pageToken=" + TOKEN)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("page_access_token", "maybe"),
        ("pageAccessToken", "maybe"),
        ("page_token_secret", "sure"),
        ("next_password", "sure"),
        ("db_pass", "sure"),
        ("pass", "sure"),
        ("DB_PASS", "sure"),
        ("smtpPass", "sure"),
    ],
)
def test_secret_names_that_hold_a_pagination_word(name: str, kind: str) -> None:
    assert secret_named(name) == kind
    assert secret_named(name, query=True) == kind


@pytest.mark.parametrize(
    "name",
    [
        "next_page_token",
        "nextPageToken",
        "page_token",
        "pageToken",
        "continuation_token",
        "continuationToken",
        "NextToken",
        "csrf_token",
        "x-csrf-token",
        "X-XSRF-TOKEN",
        "cursor",
        "next_cursor",
        "cursor_token",
        "pass_count",  # "pass" counts only as the last word
        "pass_through",
        "bypass",
        "passport",
        "max_tokens",
    ],
)
def test_names_that_are_no_secret(name: str) -> None:
    assert secret_named(name) is None
    assert secret_named(name, query=True) is None


def test_a_pass_field_is_redacted_whatever_its_value(tmp_path: Path) -> None:
    text = record(tmp_path, _answer(json={"db_pass": PASSWORD, "pass": "x y"}), _get)
    assert PASSWORD not in text
    assert json.loads(text)["responses"][0]["body"] == {"db_pass": REDACTED, "pass": REDACTED}


# -- F15: a secret-named header sent twice ------------------------------------------------------------


@pytest.mark.parametrize("secret", [HEX_TOKEN, TOKEN], ids=["hex", "mixed"])
def test_a_secret_header_sent_twice_is_redacted(tmp_path: Path, secret: str) -> None:
    headers = [("x-auth-token", secret), ("X-Auth-Token", secret)]
    text = record(tmp_path, _answer(json={}, headers=headers), _get)
    assert secret not in text
    assert json.loads(text)["responses"][0]["headers"]["x-auth-token"] == REDACTED


def test_response_headers_judges_each_occurrence_and_each_part() -> None:
    assert response_headers([("x-session-token", TOKEN), ("x-session-token", "short")]) == {
        "x-session-token": REDACTED
    }
    assert response_headers([("x-session-token", "short, " + TOKEN)]) == {"x-session-token": REDACTED}
    # Repeated headers that are no secret are still joined.
    assert response_headers([("vary", "accept"), ("Vary", "origin")]) == {"vary": "accept, origin"}
    assert response_headers([("x-session-token", "a, b")]) == {"x-session-token": "a, b"}


def test_a_matched_secret_header_sent_twice_is_stored_hashed(tmp_path: Path) -> None:
    transport = CassetteTransport(
        tmp_path, mode="record", match_headers=["x-session-token"], inner=httpx.MockTransport(_ok)
    )
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        client.get("/v1/x", headers=[("x-session-token", TOKEN), ("x-session-token", TOKEN)])
    [file] = tmp_path.glob("*.json")
    text = file.read_text()
    assert TOKEN not in text
    assert json.loads(text)["request"]["headers"]["x-session-token"].startswith("scrypt:")


# -- F16: PGP private keys, Slack app and refresh tokens -------------------------------------------------


@pytest.mark.parametrize(
    "handler",
    [_answer(json={"armored": PGP_KEY}), _answer(text=PGP_KEY)],
    ids=["json-field", "text-body"],
)
def test_an_armored_pgp_private_key_is_refused(tmp_path: Path, handler: Handler) -> None:
    refused(tmp_path, handler, _get)


@pytest.mark.parametrize("kind", ["PGP PRIVATE KEY BLOCK", "OPENSSH PRIVATE KEY", "RSA PRIVATE KEY"])
def test_private_key_headers_are_a_known_format(kind: str) -> None:
    assert known_format("key:\n-----BEGIN " + kind + "-----\nabc")


def _slack(prefix: str) -> str:
    return prefix + "1-" + "A0123456789-" + "1234567890123-" + "a1b2c3d4e5f6"


@pytest.mark.parametrize("prefix", ["xoxb-", "xoxp-", "xoxe-", "xoxe.xoxp-", "xapp-"])
def test_slack_tokens_are_a_known_format(prefix: str) -> None:
    assert known_format("use " + _slack(prefix) + " here") == [_slack(prefix)]


@pytest.mark.parametrize("prefix", ["xoxe-", "xoxe.xoxp-"])
def test_a_slack_refresh_token_in_text_is_refused(tmp_path: Path, prefix: str) -> None:
    refused(tmp_path, _answer(json={"note": "rotate " + _slack(prefix)}), _get)


def test_a_slack_app_token_in_text_is_refused_or_reported(tmp_path: Path) -> None:
    """``xapp-`` holds none of the scanner's prefilter anchors (``core/prefilter.py`` ``_ANCHORS``) yet:
    until one is added, only ``scan`` reports it."""
    token = _slack("xapp-")
    transport = CassetteTransport(
        tmp_path, mode="record", inner=httpx.MockTransport(_answer(json={"note": token}))
    )
    try:
        with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
            client.get("/v1/x")
    except CassetteSecretError:
        return
    assert scan_directory(tmp_path)


# -- F14: what a placeholder is -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [{"note": "<" + AWS_KEY_ID + ">"}, {"msg": "<" + GITHUB_TOKEN + ">"}],
    ids=["aws-key-id", "github-token"],
)
def test_a_credential_in_angle_brackets_is_refused(tmp_path: Path, body: dict[str, str]) -> None:
    refused(tmp_path, _answer(json=body), _get)


def test_a_password_in_angle_brackets_is_redacted(tmp_path: Path) -> None:
    text = record(tmp_path, _answer(json={"password": "<" + PASSWORD + ">"}), _get)
    assert PASSWORD not in text
    assert json.loads(text)["responses"][0]["body"] == {"password": REDACTED}


def test_scan_reports_a_password_in_angle_brackets_on_disk(tmp_path: Path) -> None:
    (tmp_path / "hand-written.json").write_text(json.dumps({"password": "<" + PASSWORD + ">"}))
    assert scan_directory(tmp_path)


def test_a_placeholder_under_a_secret_name_is_kept(tmp_path: Path) -> None:
    body = {"password": "<DB_PASSWORD>", "token": "<<OPENAI_API_KEY_2>>", "api_key": "<OPENAI_API_KEY>"}
    text = record(tmp_path, _answer(json=body), _get)
    assert json.loads(text)["responses"][0]["body"] == body


def test_a_configured_placeholder_replays(tmp_path: Path) -> None:
    account = "acct-" + "4f7a9c"
    upstream = _answer(json={"account": account})
    transport = CassetteTransport(
        tmp_path, mode="record", placeholders={"<ACCOUNT_ID>": account}, inner=httpx.MockTransport(upstream)
    )
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        client.get("/v1/me")
    [file] = tmp_path.glob("*.json")
    assert json.loads(file.read_text())["responses"][0]["body"] == {"account": "<ACCOUNT_ID>"}
    replay = CassetteTransport(tmp_path, mode="replay", placeholders={"<ACCOUNT_ID>": account})
    with httpx.Client(transport=replay, base_url="https://api.example.com") as client:
        assert client.get("/v1/me").json() == {"account": account}


@pytest.mark.parametrize(
    "value",
    [
        "<ACCOUNT>",
        "<O>",
        "<ORG_KEY>",
        "<TEAM>",
        "<DB_PASSWORD>",
        "<OPENAI_API_KEY>",
        "<AZURE_OPENAI_API_KEY>",
        "<OPENAI_API_KEY_2>",
        "<ACCOUNT_ID_2024_PROD>",
        "<GPT4_KEY_EU2>",
        "<<ACCOUNT>>",  # what a placeholder clash suggests
        "<SERVICE.KEY-1>",
    ],
)
def test_placeholders_of_the_documented_shape(value: str) -> None:
    assert is_placeholder(value)
    assert not secret_value("password", value)
    assert not secret_value("token", value)


@pytest.mark.parametrize(
    "value",
    [
        "<" + AWS_KEY_ID + ">",
        "<" + GITHUB_TOKEN + ">",
        "<" + PASSWORD + ">",  # lower case: a password may be written so
        "<" + TOKEN + ">",
        "<" + HEX_TOKEN + ">",
        "<Q3EXAMPLE7ZT4WB2X>",  # capitals, but one random run of letters and digits
        "<" + "Q3EX7ZT4" * 4 + ">",
        "<<ACCOUNT>",
        "<ACCOUNT>>",
        "<>",
        "<ACC OUNT>",
        "<" + "A" * 65 + ">",
        "ACCOUNT",
    ],
)
def test_text_in_angle_brackets_that_is_no_placeholder(value: str) -> None:
    assert not is_placeholder(value)


def test_a_sure_name_redacts_angle_bracket_text_but_a_maybe_name_needs_a_token() -> None:
    assert secret_value("password", "<" + PASSWORD + ">")
    assert secret_value("token", "<" + TOKEN + ">")
    assert not secret_value("token", "<short>")


def test_random_tokens_in_headers_are_caught_however_their_classes_fall() -> None:
    # A random token sometimes changes character class less often than usual; its entropy still shows.
    rng = random.Random(15)
    alphabet = string.ascii_letters + string.digits
    tokens = ["".join(rng.choice(alphabet) for _ in range(43)) for _ in range(5_000)]
    mixed = [t for t in tokens if any(c.isupper() for c in t) and any(c.isdigit() for c in t)]
    assert all(high_entropy(t) for t in mixed)
    for word in ("MicrosoftAzureStorageBlobContainer2023", "gpt-4o-mini-2024-07-18-FineTuned-Model9"):
        assert not high_entropy(word)


def _alnum(n: int) -> str:
    return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(n))


MORE_FORMATS = {
    "Stripe live secret key": lambda: "sk" + "_live_" + _alnum(24),
    "Stripe restricted test key": lambda: "rk" + "_test_" + _alnum(24),
    "GitLab token": lambda: "glpat" + "-" + _alnum(20),
    "npm token": lambda: "npm" + "_" + _alnum(36),
    "PyPI token": lambda: "pypi" + "-AgEIcHlwaS5vcmc" + _alnum(60),
    "SendGrid API key": lambda: "SG" + "." + _alnum(22) + "." + _alnum(43),
}


@pytest.mark.parametrize("make", MORE_FORMATS.values(), ids=list(MORE_FORMATS))
def test_more_known_formats_in_text_are_refused(tmp_path: Path, make: Callable[[], str]) -> None:
    token = make()
    assert known_format(f"deploy with {token} now") == [token]
    refused(tmp_path, _answer(json={"note": f"deploy with {token} now"}), _get)


def test_a_stripe_publishable_key_is_no_secret() -> None:
    assert known_format("pk" + "_live_" + _alnum(24)) == []
