"""A secret name set to a token in code or a command written in text: a prompt that pastes code, an
answer that repeats it. Recording refuses it, ``httpx-cassette scan`` flags it written by hand, and the
same code with a placeholder (what answers show) records.

Quoted values only (``api_key="..."``, ``apiKey: '...'``, ``-H "X-Api-Key: ..."``), or an environment
variable on a command line (``API_KEY=... cmd``); the value must be a token: inside prose a sure name
(``password="changeme"``) is no proof. HTTP Basic credentials (``Authorization: Basic ...``) are a
known format.
"""

from __future__ import annotations

import base64
import json
import random
import string
from pathlib import Path

import httpx
import pytest

from httpx_cassette import CassetteSecretError, CassetteTransport
from httpx_cassette.cli import main as cli_main


def token(seed: int = 0) -> str:
    """A random 32-character token of no known format, built at run time."""
    rng = random.Random(seed)
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(32))


CODE = {
    "python keyword": 'client = Pinecone(api_key="{}")',
    "python dict": "settings = {{'password': '{}', 'user': 'admin'}}",
    "javascript object": "const client = new Client({{ apiKey: '{}' }});",
    "ruby hash": "conn = Service.new(:auth_token => '{}')",
    "curl header": 'curl -H "X-Api-Key: {}" https://api.example.com/v1/things',
    "command line variable": "DEEPGRAM_API_KEY={} python transcribe.py",
    "yaml in a sentence": "Put `client_secret: '{}'` under the credentials key.",
    "basic credentials": "curl -H 'Authorization: Basic {}' https://api.example.com/v1/things",
}
HONEST = [
    'client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])',
    "client = Pinecone(api_key='YOUR_API_KEY')",
    'client = Client(api_key="<PINECONE_API_KEY>")',
    "Use password='changeme' only on your laptop.",
    'headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}',
    "PATH=/usr/local/bin:/usr/bin:/bin python app.py",
    "Set max_tokens: 'ThisIsALongValue123' and token_type: 'Bearer'",
    "See https://api.example.com/v1/items?API_KEY=REDACTED&limit=10 for the format",
    "Basic authentication sends Authorization: Basic <base64 of user:password>.",
    # where a command line shown in an answer puts the key: a variable, a name, words in brackets
    "curl https://api.openai.com/v1/models -H 'Authorization: Bearer $OPENAI_API_KEY'",
    'curl -H "Authorization: Bearer ${TOKEN}" https://api.example.com/v1/me',
    "Invoke-RestMethod -Headers @{Authorization = 'Bearer $env:OPENAI_API_KEY'}; or %API_KEY% on cmd",
    "Send Authorization: Bearer YOUR_API_KEY with every request.",
    "Send Authorization: Bearer <your-token>, or in a template: Authorization: Bearer {{ api_key }}",
    'client = OpenAI(api_key="$OPENAI_API_KEY")',
    # JSON in text is judged as the same pair in data is: a `*Key` name is no secret's for a word
    'Define the table with {"partitionKey": "tenantId", "sortKey": "createdAt", "primaryKey": "id"',
    'self.__next_f.push([1,"{\\"parallelRouterKey\\":\\"children\\",\\"segmentPath\\":[\\"children\\"]"])',
]


def chat(content: str, answer: str) -> tuple[httpx.Request, dict[str, object]]:
    request = {"model": "m", "messages": [{"role": "user", "content": content}]}
    reply = {"id": "c1", "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}}]}
    return httpx.Request("POST", "https://api.example.com/v1/chat/completions", json=request), reply


def record(directory: Path, content: str, answer: str) -> None:
    request, reply = chat(content, answer)
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, json=reply))
    with httpx.Client(transport=CassetteTransport(directory, mode="record", inner=upstream)) as client:
        client.send(request)


def write_by_hand(directory: Path, content: str, answer: str) -> None:
    directory.mkdir(parents=True)
    request, reply = chat(content, answer)
    cassette = {
        "version": 1,
        "request": {"method": "POST", "url": str(request.url), "body": json.loads(request.content)},
        "responses": [{"status": 200, "headers": {"content-type": "application/json"}, "body": reply}],
    }
    (directory / "by-hand.json").write_text(json.dumps(cassette))


@pytest.mark.parametrize("where", ["prompt", "answer"])
@pytest.mark.parametrize("shape", list(CODE))
def test_a_token_set_in_code_is_refused_and_flagged(tmp_path: Path, shape: str, where: str) -> None:
    secret = token(len(shape))
    if shape == "basic credentials":  # base64 of "user:password", as HTTP sends it
        secret = base64.b64encode(f"admin:{secret}".encode()).decode()
    text = f"Here is my setup:\n{CODE[shape].format(secret)}\nWhy does it fail?"
    content, answer = (text, "It looks fine.") if where == "prompt" else ("How?", text)
    with pytest.raises(CassetteSecretError) as refused:
        record(tmp_path / "recorded", content, answer)
    assert secret not in str(refused.value)
    assert ("basic credentials" if shape == "basic credentials" else "in its text") in str(refused.value)
    assert not [f for f in (tmp_path / "recorded").rglob("*") if f.is_file()]  # nothing written
    write_by_hand(tmp_path / "by_hand", content, answer)
    assert cli_main(["scan", str(tmp_path / "by_hand")]) == 1


@pytest.mark.parametrize("text", HONEST)
def test_code_with_placeholders_records(tmp_path: Path, text: str) -> None:
    record(tmp_path, "Show me how to set the client up.", f"Like this:\n{text}\nThen call it.")
    (file,) = tmp_path.glob("*.json")
    assert text in json.loads(file.read_text())["responses"][0]["body"]["choices"][0]["message"]["content"]
    assert cli_main(["scan", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    "xml",
    [
        '<wsse:UsernameToken><wsse:Username>bob</wsse:Username><wsse:Password Type="t">{}</wsse:Password>'
        "</wsse:UsernameToken>",
        "<Credentials><SecretAccessKey>{}</SecretAccessKey></Credentials>",
    ],
    ids=["ws-security password", "secret access key"],
)
def test_a_token_in_an_xml_element_named_as_a_secret_is_refused_and_flagged(tmp_path: Path, xml: str) -> None:
    secret = token(len(xml)) + "/+"
    with pytest.raises(CassetteSecretError) as refused:
        record(tmp_path / "recorded", "Why does this fail?", xml.format(secret))
    assert secret not in str(refused.value)
    write_by_hand(tmp_path / "by_hand", "Why does this fail?", xml.format(secret))
    assert cli_main(["scan", str(tmp_path / "by_hand")]) == 1


def test_an_xml_example_with_a_placeholder_records(tmp_path: Path) -> None:
    record(tmp_path, "Show me", "<password>changeme</password><token>YOUR_TOKEN_HERE</token>")
    assert cli_main(["scan", str(tmp_path)]) == 0


@pytest.mark.parametrize(
    "password",
    [
        "ADMIN_PASSWORD_2024",
        "$hunter2pw",
        "$S3CR3TK3Y9X7Q2",
        "%hunter2pw%",
        "{{ hunter2pw }}",
        "<correct horse>",
    ],
)
def test_a_password_shaped_like_a_placeholder_is_still_redacted_under_its_name(
    tmp_path: Path, password: str
) -> None:
    # `YOUR_API_KEY` or `$OPENAI_API_KEY` after `Bearer` in text stands in for a key; under a secret's
    # name in data the value is the password itself, so redaction keeps it off disk
    upstream = httpx.MockTransport(lambda _: httpx.Response(200, json={"ok": True}))
    with httpx.Client(transport=CassetteTransport(tmp_path, mode="record", inner=upstream)) as client:
        client.post("https://api.example.com/v1/login", json={"user": "ada", "password": password})
    (file,) = tmp_path.glob("*.json")
    assert json.dumps(password)[1:-1] not in file.read_text()


@pytest.mark.parametrize("token", ["$Q7XK9ZP2M4RT8WNJ5C", "<correct horse battery staple>", "$hunter2pw9X"])
def test_a_token_shaped_like_a_reference_in_a_header_line_is_refused(tmp_path: Path, token: str) -> None:
    with pytest.raises(CassetteSecretError):
        record(tmp_path, "Why is this refused?", f"You sent Authorization: Bearer {token} there.")
