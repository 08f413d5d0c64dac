"""Finding credentials before they reach disk: the check run on every write, and `scan_directory` for the CLI.

A value is reported when it matches a known credential format (OpenAI and Anthropic keys, bearer tokens,
AWS access key ids, JSON Web Tokens, and a few other providers' keys), when it is a token-like value of
a field named like a credential (``api_key``, ``client_secret``, ``password``...), or, in a header
value, when it is a long mixed-case token with the entropy of a random key. Headers that carry request
ids and trace ids are exempt from that last rule. What is a false positive is for the user to say,
with an allow-list of exact values or regular expressions.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from httpx_cassette.core.redact import REDACTED
from httpx_cassette.errors import CassetteSecretError
from httpx_cassette.model.cassette import Request, Response
from httpx_cassette.model.jsondiff import step

__all__ = ["Finding", "SecretScanner", "refusal"]

_RULES = {
    "Anthropic API key": r"sk-ant-(?=[\w-]*\d)[\w-]{20,}",
    "OpenAI API key": r"sk-(?=[\w-]*\d)[\w-]{20,}",
    "bearer token": r"[Bb]earer\s+(?!REDACTED\b)[\w.~+/-]{16,}=*",
    "AWS access key id": r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}(?![0-9A-Z])",
    "JSON Web Token": r"eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*",
    "Google API key": r"AIza[\w-]{35}",
    "GitHub token": r"(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{40,})",
    "Slack token": r"xox[abprs]-[A-Za-z0-9-]{10,}",
    "Hugging Face token": r"hf_[A-Za-z0-9]{30,}",
    "Groq API key": r"gsk_[A-Za-z0-9]{40,}",
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
}
_GROUPS = {f"r{i}": kind for i, kind in enumerate(_RULES)}
# One pass per string; a credential starts a token (so "task-..." is no "sk-..." key).
_PATTERN = re.compile(
    r"(?<![A-Za-z0-9_])(?:" + "|".join(f"(?P<r{i}>{rule})" for i, rule in enumerate(_RULES.values())) + ")"
)
_CREDENTIAL_FIELD = re.compile(
    r"(?i)(secret|passw(or)?d|private[_-]?key|api[_-]?key|access[_-]?token|refresh[_-]?token"
    r"|auth[_-]?token|session[_-]?token|credential)"
)
# Every rule above needs one of these literally, and a credential-named field one of the words: a
# recording whose JSON text has none can only hold a secret as a random token in a header value.
# (Substring tests, not one big regex: Python's re tries every branch at every position.)
_ANCHORS = (
    *("sk-", "earer", "AKIA", "ASIA", "ABIA", "ACCA", "eyJ", "AIza", "github_pat_", "xox", "hf_", "gsk_"),
    *("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "PRIVATE KEY"),
)
_FIELD_WORDS = ("secret", "passw", "private", "api", "access", "refresh", "auth", "session", "credential")


def _may_hold_secret(text: str) -> bool:
    lower = text.lower()
    return any(anchor in text for anchor in _ANCHORS) or any(word in lower for word in _FIELD_WORDS)


_LEAVES = frozenset({int, float, bool, type(None)})


def _distinct_strings(data: Any) -> set[Any]:
    """Every string in JSON-like ``data``, keys included, once (keys as they are: `scan` str()s them)."""
    seen: set[Any] = set()
    stack = [data]
    while stack:
        value = stack.pop()
        items: Iterable[Any]
        if isinstance(value, dict):
            seen.update(value)
            items = value.values()
        elif isinstance(value, list | tuple):
            items = value
        else:
            if isinstance(value, str):
                seen.add(value)
            continue
        # The hot loop of a recording's secret check: exact type tests, no isinstance chain per item.
        for item in items:
            kind = type(item)
            if kind is str:
                seen.add(item)
            elif kind not in _LEAVES:  # a container, or anything unusual (a str subclass): decided above
                stack.append(item)
    return seen


def _distinct_text(value: Request | Response) -> str:
    """The distinct strings of a stored request or response, as one text.

    A stream repeats most of its strings (ids, model, field names) in every event, so this is a small
    fraction of its JSON text; its events' data are walked as they are, not converted to dicts first.
    """
    events = value.events() if isinstance(value, Response) else []
    if not events:
        found = _distinct_strings(msgspec.to_builtins(value))
    else:
        head = msgspec.to_builtins(msgspec.structs.replace(value, body=UNSET))
        found = _distinct_strings([head, [event.data for event in events]])
        found.update(text for event in events for text in (event.event, event.type, event.id) if text)
    return "\0".join(map(str, found))  # NUL: no credential pattern spans two strings


_FIELD_VALUE = re.compile(r"\S{8,}")
_HEADER_TOKEN = re.compile(r"[A-Za-z0-9+/_.=-]{24,}")
# Random base62/base64 tokens of 24+ characters: ~4.2+ bits per character, and the character class
# (upper, lower, digit) changes at ~60% of neighbours (99% of them above 40%).
_MIN_ENTROPY = 3.5
_MIN_CHANGES = 0.4
# Headers whose values are random by design but are ids, not credentials.
ID_HEADERS = frozenset(
    {
        "request-id",
        "x-request-id",
        "x-client-request-id",
        "x-correlation-id",
        "x-trace-id",
        "traceparent",
        "tracestate",
        "cf-ray",
        "etag",
        "x-amzn-requestid",
        "x-amzn-request-id",
        "x-amz-request-id",
        "x-amz-id-2",
        "x-amz-cf-id",
        "x-amzn-trace-id",
        "x-cloud-trace-context",
        "x-guploader-uploadid",
        "apim-request-id",
        "x-ms-request-id",
        "x-ms-client-request-id",
        "anthropic-organization-id",
        "content-security-policy",
    }
)


@dataclass(frozen=True)
class Finding:
    """A value that looks like a credential: where it is and a masked copy (never the value itself)."""

    file: Path | None
    path: str  # a JSON path: "$.responses[0].headers.x-session-key", or "line 12" in a file that is not JSON
    kind: str
    masked: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.file is not None else self.path
        return f"{where}: {self.kind} {self.masked}"

    def remedy(self) -> str:
        """The option that keeps this value off disk."""
        body = re.match(r"\$\.(?:request|responses\[\d+\])\.body(?:\[\d+\]\.__data__)?\.?(.+)", self.path)
        if body and not body.group(1).startswith("["):
            return f"redact_json_paths=[{msgspec.json.encode(body.group(1)).decode()}]"
        header = re.match(r"\$\.(?:request|responses\[\d+\])\.headers\.(.+)", self.path)
        if header:
            return f"redact_headers=[{msgspec.json.encode(header.group(1)).decode()}]"
        return 'placeholders={"<NAME>": the_value}'


def mask(secret: str) -> str:
    """The first few characters (at most a quarter) and the length."""
    return f"{secret[: min(6, len(secret) // 4)]}…({len(secret)} chars)"


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text).values()
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts)


def _kind(char: str) -> int:
    return 0 if char.isupper() else 1 if char.islower() else 2 if char.isdigit() else 3


def _random_token(token: str) -> bool:
    """Mixed case and digits, high entropy, and a character class that keeps changing: random keys do,
    while words, versions and dates (``max-age=31536000;includeSubDomains``) change class rarely."""
    kinds = [_kind(c) for c in token]
    if not {0, 1, 2} <= set(kinds) or entropy(token) < _MIN_ENTROPY:
        return False
    pairs = [(a, b) for a, b in itertools.pairwise(kinds) if a != 3 and b != 3]
    return bool(pairs) and sum(a != b for a, b in pairs) / len(pairs) >= _MIN_CHANGES


def _backwards(items: list[Any]) -> Iterator[tuple[int, Any]]:
    return ((i, items[i]) for i in range(len(items) - 1, -1, -1))


class SecretScanner:
    """Finds credential-looking values in JSON-like data; ``allow`` lists exact values or regular
    expressions (matched against the whole credential) that are known not to be secrets."""

    def __init__(self, allow: Iterable[str | re.Pattern[str]] = ()) -> None:
        items = list(allow)
        self._exact = {REDACTED, *(a for a in items if isinstance(a, str))}
        self._patterns = [a for a in items if isinstance(a, re.Pattern)]

    def allowed(self, value: str) -> bool:
        return value in self._exact or any(p.fullmatch(value) for p in self._patterns)

    def in_text(self, text: str, path: str, file: Path | None = None) -> Iterator[Finding]:
        """Credentials of a known format inside one string."""
        for match in _PATTERN.finditer(text):
            found = match.group(0)
            if not self.allowed(found) and not self.allowed(text):
                yield Finding(file, path, _GROUPS[match.lastgroup or ""], mask(found))

    def _in_header(self, name: str, value: str, path: str, file: Path | None) -> Iterator[Finding]:
        if name.lower() in ID_HEADERS:
            return
        for token in _HEADER_TOKEN.findall(value):
            if _random_token(token) and not self.allowed(token) and not self.allowed(value):
                yield Finding(file, path, "high-entropy token in a header", mask(token))

    def _in_field(self, name: str, value: str, path: str, file: Path | None) -> Iterator[Finding]:
        if _CREDENTIAL_FIELD.search(name) and _FIELD_VALUE.fullmatch(value) and not self.allowed(value):
            yield Finding(file, path, f"value of a field named {name!r}", mask(value))

    def scan(self, data: Any, path: str = "$", file: Path | None = None) -> list[Finding]:
        """Every finding in ``data`` (JSON-like builtins), walked without recursion (any depth is fine)."""
        findings: list[Finding] = []
        stack: list[tuple[Any, str, str | None, bool]] = [(data, path, None, False)]
        while stack:
            value, where, name, in_headers = stack.pop()
            if isinstance(value, str):
                before = len(findings)
                findings += self.in_text(value, where, file)
                if len(findings) == before and name is not None:
                    if in_headers:
                        findings += self._in_header(name, value, where, file)
                    else:
                        findings += self._in_field(name, value, where, file)
            elif isinstance(value, dict):
                for key, item in reversed(value.items()):
                    key = str(key)
                    findings += self.in_text(key, f"{where} (a key)", file)
                    stack.append((item, where + step(key), key, name == "headers"))
            elif isinstance(value, list):
                stack += [(item, f"{where}[{i}]", None, False) for i, item in _backwards(value)]
        return findings

    def scan_struct(self, value: msgspec.Struct, path: str) -> list[Finding]:
        """`scan` for a stored `Request`, `Response` or whole file.

        Recording runs this on every response, so a long stream is first reduced to its distinct
        strings and those are searched as one text (C speed); only a text with a candidate in it is
        walked value by value, with paths.
        """
        if isinstance(value, Request | Response) and not _may_hold_secret(_distinct_text(value)):
            return self.scan({"headers": value.headers}, path) if value.headers else []
        return self.scan(msgspec.to_builtins(value), path)


def refusal(cassette: Path, what: str, findings: list[Finding]) -> CassetteSecretError:
    """The error for a recording that would have written ``findings``; ``what`` is what holds them."""
    consequence = (
        "so it was not sent and nothing was written"
        if what.startswith("the request")
        else "so nothing was written (the caller got the live response)"
    )
    remedies = sorted({f.remedy() for f in findings})
    lines = [
        f"refusing to record into cassette {cassette}: {what} holds what looks like a credential,"
        f" {consequence}:",
        *(f"  {finding}" for finding in findings),
        f"keep it off disk with CassetteTransport(..., {', '.join(remedies)}); if it is not a secret, allow"
        " it with allow_secrets=[...] (exact values, or re.compile(...) patterns)",
    ]
    return CassetteSecretError("\n".join(lines), list(findings))
