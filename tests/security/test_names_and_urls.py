"""Names and URLs that hid a credential: a name ending in a number (``key1``, ``access_token_v2``), a
plural (``api_keys``, ``cookies``), a ``{"name": "DB_PASSWORD", "value": ...}`` pair, a credential name
holding an all-digit or all-lower-case token, a webhook URL whose path is its secret, a known format
after a percent-escape or JSON inside a query parameter, a placeholder's secret percent-encoded, and a
connection string (``AccountKey=...;``) under an ordinary name.

Each is recorded through the public API and the file on disk checked (redacted, or refused with nothing
written), then planted by hand in a cassette file, where `scan_directory` must flag it; ordinary values
next to them stay as they are. Fake credentials are built at run time.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import string
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.storage.scan import scan_directory
from tests.security.placements import aws_key_id, cassette, hex32

REDACTED = "REDACTED"
Handler = Callable[[httpx.Request], httpx.Response]
Send = Callable[[httpx.Client], object]


def _chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _lower(n: int = 32) -> str:
    return _chars(n, string.ascii_lowercase)


def _digits(n: int = 24) -> str:
    return str(secrets.randbelow(9 * 10 ** (n - 1)) + 10 ** (n - 1))


def _github_token() -> str:
    return "ghp" + "_" + _chars(36)


def _b64(n: int) -> str:
    return base64.b64encode(os.urandom(n)).decode()


def _json(body: Any) -> Handler:
    return lambda request: httpx.Response(200, json=body)


def _files(path: Path) -> list[Path]:
    return sorted(p for p in path.rglob("*") if p.is_file())


def record(path: Path, handler: Handler, send: Send, **options: Any) -> str:
    """``send(client)`` recorded through ``handler``; every file written, as one text."""
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(handler), **options)
    with httpx.Client(transport=transport, base_url="https://api.example.com") as client:
        send(client)
    return "\n".join(p.read_text() for p in _files(path))


def refused(path: Path, handler: Handler, send: Send) -> None:
    """Recording ``send(client)`` is refused, and nothing is written."""
    transport = CassetteTransport(path, mode="record", inner=httpx.MockTransport(handler))
    with (
        httpx.Client(transport=transport, base_url="https://api.example.com") as client,
        pytest.raises(CassetteSecretError),
    ):
        send(client)
    assert _files(path) == []


def flagged(path: Path, planted: dict[str, Any]) -> list[str]:
    """The masked findings of `scan_directory` on ``planted`` written by hand as a cassette file."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "planted.json").write_text(json.dumps(planted))
    return [finding.masked for finding in scan_directory(path)]


def stored_response(text: str) -> Any:
    return json.loads(text)["responses"][0]["body"]


# -- names ending in a number, plurals, name/value pairs, credential names -----------------------------

SECRET_BODIES: list[tuple[str, Callable[[str], Any]]] = [
    ("Azure listKeys key1", lambda s: {"key1": s, "key2": hex32()}),
    ("token2", lambda s: {"token2": s}),
    ("access_token_v2", lambda s: {"access_token_v2": s, "token_type": "bearer"}),
    ("api_keys", lambda s: {"api_keys": [s]}),
    ("tokens", lambda s: {"tokens": [s]}),
    ("passwords", lambda s: {"passwords": [s]}),
    ("passwords nested", lambda s: {"passwords": [["db", s]]}),
    ("api_keys three deep", lambda s: {"api_keys": [[[s]]]}),
    ("secrets map", lambda s: {"secrets": {"db": s}}),
    ("cookies[].value", lambda s: {"cookies": [{"name": "session", "value": s, "domain": ".example.com"}]}),
    ("httpbin /cookies", lambda s: {"cookies": {"sessionid": s}}),
    (
        "Azure Storage keys[].value",
        lambda s: {"keys": [{"keyName": "key1", "value": s, "permissions": "FULL"}]},
    ),
    ("Kubernetes env", lambda s: {"spec": {"containers": [{"env": [{"name": "DB_PASSWORD", "value": s}]}]}}),
    (
        "AWS SSM GetParameter",
        lambda s: {"Parameter": {"Name": "/prod/db/password", "Value": s, "Version": 3}},
    ),
    (
        "SSM SecureString",
        lambda s: {"Parameter": {"Name": "/app/stripe", "Type": "SecureString", "Value": s}},
    ),
    (
        "Azure Key Vault secret",
        lambda s: {
            "value": s,
            "id": "https://v.vault.azure.net/secrets/db-password/4387e9f3",
            "attributes": {},
        },
    ),
    (
        "1Password Connect field",
        lambda s: {
            "fields": [{"id": "x", "type": "CONCEALED", "purpose": "PASSWORD", "label": "pw", "value": s}]
        },
    ),
    ("Doppler secrets", lambda s: {"secrets": {"DB_PASSWORD": {"raw": s, "computed": s}}}),
    (
        "GCP Secret Manager",
        lambda s: {"name": "projects/p/secrets/db/versions/1", "payload": {"data": s, "dataCrc32c": "1"}},
    ),
    ("headers as pairs", lambda s: {"headers": [["Accept", "*/*"], ["X-Api-Key", s]]}),
    (
        "ASGI scope headers",
        lambda s: {"scope": {"type": "http", "headers": [["authorization", f"Basic {s}"]]}},
    ),
    (
        "Vercel env key/value",
        lambda s: {"envs": [{"key": "STRIPE_SECRET_KEY", "value": s, "type": "encrypted"}]},
    ),
]


@pytest.mark.parametrize(("case", "body"), SECRET_BODIES, ids=[case for case, _ in SECRET_BODIES])
def test_secret_named_fields_are_redacted_and_flagged(
    tmp_path: Path, case: str, body: Callable[[str], Any]
) -> None:
    secret = hex32() if "key1" in case else _b64(48)
    sent = body(secret)
    text = record(tmp_path / "c", _json(sent), lambda c: c.post("/v1/things", json=sent))
    assert secret not in text
    assert REDACTED in json.dumps(stored_response(text))
    assert flagged(tmp_path / "planted", cassette(response={"body": body(secret)}))


CREDENTIAL_TOKENS = {
    "access_token": _digits,
    "refresh_token": _lower,
    "id_token": lambda: _digits(30),
    "auth_token": lambda: _lower(20),
}


@pytest.mark.parametrize(("name", "make"), CREDENTIAL_TOKENS.items(), ids=list(CREDENTIAL_TOKENS))
def test_credential_names_hold_a_secret_whatever_its_alphabet(
    tmp_path: Path, name: str, make: Callable[[], str]
) -> None:
    secret = make()
    body = {name: secret, "token_type": "bearer", "expires_in": 3600}
    text = record(tmp_path / "c", _json(body), lambda c: c.post("/oauth/token", data={"grant_type": "x"}))
    assert secret not in text
    assert stored_response(text)[name] == REDACTED
    assert stored_response(text)["token_type"] == "bearer"
    assert flagged(tmp_path / "planted", cassette(response={"body": {name: secret}}))


def test_ordinary_names_and_values_next_to_them_are_kept(tmp_path: Path) -> None:
    kept = {
        "usage": {"prompt_tokens": 12, "completion_tokens": 30, "total_tokens": 42},
        "max_tokens": "4096",
        "sort_keys": ["created_at_2024", "tenant_id_v2"],
        "next_token": _lower(),  # a pagination cursor: replay needs it
        "logprobs": {"token": " Hello", "tokens": [" Hello", " world"]},
        "access_token": "none",
        "refresh_token": "<REFRESH_TOKEN>",
        "secrets": [{"name": "GH_TOKEN", "created_at": "2024-01-10T10:59:22Z"}],  # GitHub: names only
        "env": [{"name": "LOG_LEVEL", "value": "debug"}],
        "jwks": {
            "keys": [{"kid": "k1", "kty": "RSA", "n": _chars(64, string.ascii_lowercase + "_-"), "e": "AQAB"}]
        },
        "SharedAccessKeyName": "RootManageSharedAccessKey",
        "hsts": "max-age=31536000; includeSubDomains; preload",
        "conn": "Server=db;Database=app;User ID=sa;Password=<DB_PASSWORD>;",
    }
    text = record(tmp_path / "c", _json(kept), lambda c: c.get("/v1/things"))
    assert stored_response(text) == kept
    assert scan_directory(tmp_path / "c") == []


# -- URLs: webhooks, percent-escapes, JSON in a parameter ----------------------------------------------


def _slack_webhook() -> tuple[str, str]:
    secret = _chars(24)
    ids = string.ascii_uppercase + string.digits
    return f"https://hooks.slack.com/services/T0{_chars(8, ids)}/B0{_chars(8, ids)}/{secret}", secret


def _discord_webhook() -> tuple[str, str]:
    secret = _chars(68, string.ascii_letters + string.digits + "_-")
    return f"https://discord.com/api/webhooks/{_digits(18)}/{secret}", secret


@pytest.mark.parametrize("make", [_slack_webhook, _discord_webhook], ids=["slack", "discord"])
def test_a_webhook_secret_stays_out_of_the_url_and_the_file_name(
    tmp_path: Path, make: Callable[[], tuple[str, str]]
) -> None:
    url, secret = make()
    text = record(
        tmp_path / "c", lambda r: httpx.Response(200, text="ok"), lambda c: c.post(url, json={"text": "hi"})
    )
    [file] = _files(tmp_path / "c")
    assert secret not in text
    assert secret.lower() not in file.name
    assert json.loads(text)["request"]["url"] == url.replace(secret, REDACTED)
    replay = CassetteTransport(tmp_path / "c", mode="replay")
    with httpx.Client(transport=replay) as client:
        assert client.post(url, json={"text": "hi"}).text == "ok"
    assert flagged(tmp_path / "planted", cassette(request={"url": url}))


def test_a_webhook_url_in_a_response_body_is_refused(tmp_path: Path) -> None:
    url, _ = _slack_webhook()
    body = {"ok": True, "incoming_webhook": {"channel": "#deploys", "url": url}}  # Slack's oauth.v2.access
    refused(tmp_path / "c", _json(body), lambda c: c.post("/api/oauth.v2.access"))
    assert flagged(tmp_path / "planted", cassette(response={"body": body}))


ENCODED_QUERIES: dict[str, Callable[[], tuple[str, str]]] = {
    "quoted AWS key id": lambda: (key := aws_key_id(), f'"{key}"'),
    "GitHub token after a newline": lambda: (key := _github_token(), f"x\n{key}"),
    "AWS key id encoded twice": lambda: (key := aws_key_id(), quote(f'"{key}"')),
}


@pytest.mark.parametrize("case", ENCODED_QUERIES, ids=list(ENCODED_QUERIES))
def test_a_known_format_behind_a_percent_escape_is_refused(tmp_path: Path, case: str) -> None:
    _, value = ENCODED_QUERIES[case]()
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"ok": True})

    refused(tmp_path / "c", handler, lambda c: c.get("/search", params={"q": value}))
    assert sent == []  # a refused request is not sent
    url = str(httpx.URL("https://api.example.com/search", params={"q": value}))
    assert flagged(tmp_path / "planted", cassette(request={"url": url}))


def test_json_in_a_query_parameter_is_redacted_by_its_field_names(tmp_path: Path) -> None:
    password = "correct horse " + secrets.token_hex(4)
    query = "mutation($password:String!){login(password:$password){ok}}"

    def send(client: httpx.Client, secret: str = password) -> httpx.Response:
        variables = json.dumps({"user": "ada", "password": secret})
        return client.get("/graphql", params={"query": query, "variables": variables})

    text = record(tmp_path / "c", _json({"ok": True}), send)
    assert all(form not in text for form in (password, quote_plus(password), quote(password)))
    stored = httpx.URL(json.loads(text)["request"]["url"]).params["variables"]
    assert json.loads(stored) == {"user": "ada", "password": REDACTED}
    replay = CassetteTransport(tmp_path / "c", mode="replay")
    with httpx.Client(transport=replay, base_url="https://api.example.com") as client:
        assert send(client, "another password").json() == {"ok": True}
    url = str(
        httpx.URL("https://api.example.com/graphql", params={"variables": json.dumps({"password": password})})
    )
    assert flagged(tmp_path / "planted", cassette(request={"url": url}))


# -- a placeholder's secret, percent-encoded -----------------------------------------------------------

SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCY+"  # the shape of an AWS secret access key: '/' and '+'


def _encoded_cases(secret: str) -> list[tuple[str, Handler, Send]]:
    upper = quote(secret, safe="")
    lower = upper.replace("%2F", "%2f").replace("%2B", "%2b")
    ok = _json({})
    return [
        (
            "Location header",
            lambda r: httpx.Response(302, headers={"location": f"/next?acct={upper}"}),
            lambda c: c.get("/x"),
        ),
        (
            "URL in a response JSON",
            _json({"next": f"https://app.example/next?acct={upper}"}),
            lambda c: c.get("/y"),
        ),
        (
            "URL in a request JSON",
            ok,
            lambda c: c.post("/z", json={"callback": f"https://app.example/cb?acct={lower}"}),
        ),
        ("request URL, lower-case hex", ok, lambda c: c.get("/w?acct=" + lower)),
        (
            "form-encoded in a response text",
            lambda r: httpx.Response(200, text="acct=" + quote_plus(secret)),
            lambda c: c.get("/v"),
        ),
    ]


@pytest.mark.parametrize("case", range(5), ids=[case for case, _, _ in _encoded_cases("x")])
def test_a_placeholder_hides_every_encoding_of_its_secret(tmp_path: Path, case: int) -> None:
    secret = SECRET_ACCESS_KEY + _chars(9)
    _, handler, send = _encoded_cases(secret)[case]
    text = record(tmp_path / "c", handler, send, placeholders={"<AWS_SECRET>": secret})
    upper = quote(secret, safe="")
    for form in (secret, upper, upper.lower(), quote_plus(secret), upper.replace("%2F", "%2f")):
        assert form not in text
    assert "<AWS_SECRET>" in text


# -- connection strings ----------------------------------------------------------------------------------

CONNECTION_STRINGS: dict[str, Callable[[str], str]] = {
    "Azure Storage AccountKey": lambda s: (
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s};EndpointSuffix=core.windows.net"
    ),
    "Service Bus SharedAccessKey": lambda s: (
        "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        f"SharedAccessKey={s}"
    ),
    "SQL Password": lambda s: (
        f"Server=tcp:db.example.net,1433;Database=app;User ID=admin;Password={s};Encrypt=True"
    ),
}


@pytest.mark.parametrize("case", CONNECTION_STRINGS, ids=list(CONNECTION_STRINGS))
def test_a_connection_string_secret_is_refused_and_flagged(tmp_path: Path, case: str) -> None:
    # base64 with a "/" every 10 characters: no run long enough to pass for a random token in a URL path
    secret = "Xk9#" + _chars(14) if case == "SQL Password" else "/".join(_chars(10) for _ in range(4)) + "="
    body = {"properties": {"connection": CONNECTION_STRINGS[case](secret)}}
    refused(tmp_path / "c", _json(body), lambda c: c.post("/config/connectionstrings/list"))
    refused(tmp_path / "r", _json({}), lambda c: c.post("/config/connectionstrings", json=body))
    assert flagged(tmp_path / "planted", cassette(response={"body": body}))


# -- lines of a text body that set a secret name -----------------------------------------------------

TEXT_FILES: dict[str, Callable[[str], str]] = {
    "dotenv": lambda s: f"# app\nDEBUG=1\nexport DB_PASSWORD={s}\n",
    "YAML": lambda s: f"database:\n  host: db\n  password: '{s}'\n",
    "INI": lambda s: f"[db]\nuser = app\napi_key = {s}\n",
    "header dump": lambda s: f"GET / HTTP/1.1\r\nHost: x\r\nX-Api-Key: {s}\r\n",
}


@pytest.mark.parametrize("make", TEXT_FILES.values(), ids=list(TEXT_FILES))
def test_a_text_body_line_setting_a_secret_name_is_refused_and_flagged(
    tmp_path: Path, make: Callable[[str], str]
) -> None:
    secret = _b64(24)
    text = make(secret)
    refused(tmp_path / "c", lambda request: httpx.Response(200, text=text), lambda c: c.get("/v1/config"))
    assert flagged(
        tmp_path / "planted", cassette(response={"headers": {"content-type": "text/plain"}, "text": text})
    )
    encoded = base64.b64encode(text.encode()).decode()  # GitHub's contents API: a file as base64 in JSON
    assert flagged(tmp_path / "contents", cassette(response={"body": {"name": ".env", "content": encoded}}))


def test_ordinary_lines_of_a_text_body_are_kept(tmp_path: Path) -> None:
    text = (
        "name: demo\nkey: title\nmax_tokens: 12\nsecret: <DB_SECRET>\nnote = the password is in the vault\n"
    )
    assert record(tmp_path / "c", lambda request: httpx.Response(200, text=text), lambda c: c.get("/v1/x"))
    assert scan_directory(tmp_path / "c") == []
