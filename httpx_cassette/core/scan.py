"""Finding credentials before they reach disk: the check run on every write, and `scan_directory` for the CLI.

One scanner for both, so ``httpx-cassette scan`` finds on disk whatever recording would refuse. A value
is reported when it matches a known credential format (OpenAI and Anthropic keys, bearer tokens, AWS
access key ids, JSON Web Tokens, and a few other providers' keys) anywhere; when a field, header or
query parameter named like a credential holds one (`httpx_cassette.core.secrets.secret_value`, the
rule redaction uses too, so only what redaction did not catch is reported); when a URL anywhere
holds a password, a secret parameter or a random token in its path; in a header value, when it is a
long mixed-case token with the entropy of a random key (request-id and trace headers aside); and
inside bodies stored as base64 and side files, and base64 anywhere in text, decoded and decompressed
(`httpx_cassette.core.decoded.base64_inside`), layer by layer. What is a false positive is for the
user to say, with an allow-list of exact values or regular expressions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.core import budget
from httpx_cassette.core.decoded import base64_inside
from httpx_cassette.core.embedded import (
    code_secrets,
    declared_charset,
    embedded_json,
    form_pairs,
    formish,
    header_pair,
    inline_secrets,
    json_pairs,
    maybe_json,
)
from httpx_cassette.core.escapes import as_url, one_url, unescaped
from httpx_cassette.core.fields import field_texts
from httpx_cassette.core.findings import LINE_SETTING, NOT_CHECKED, Finding, mask
from httpx_cassette.core.formats import kind_of, pattern
from httpx_cassette.core.places import (
    MAX_INFLATED,
    URL_DEPTH,
    free_text_secrets,
    url_like,
    url_secrets,
    urls_in_text,
)
from httpx_cassette.core.prefilter import FORM_TYPE, clean_json_body, distinct_parts, may_hold_secret
from httpx_cassette.core.randomness import HEADER_TOKEN, ID_HEADERS
from httpx_cassette.core.scan_bytes import coded_findings, unpacked_texts
from httpx_cassette.core.secrets import (
    REDACTED,
    assigned_secrets,
    connection_secrets,
    field_name,
    high_entropy,
    is_hashed,
    is_placeholder,
    secret_value,
    token_like,
)
from httpx_cassette.core.streamed import said_in_array, said_in_body, said_in_stream
from httpx_cassette.core.strings import Strings
from httpx_cassette.core.transcript import Assembler
from httpx_cassette.model.body import media_type
from httpx_cassette.model.cassette import Request, Response, builtins
from httpx_cassette.model.jsondiff import step
from httpx_cassette.model.served import header_value

__all__ = ["Finding", "SecretScanner", "mask"]


class SecretScanner:
    """Finds credential-looking values in JSON-like data; ``allow`` lists exact values or regular
    expressions (matched against the whole credential) that are known not to be secrets."""

    def __init__(self, allow: Iterable[str | re.Pattern[str]] = ()) -> None:
        items = list(allow)
        self._exact = {REDACTED, *(a for a in items if isinstance(a, str))}
        self._patterns = [a for a in items if isinstance(a, re.Pattern)]

    def allowed(self, value: str) -> bool:
        """An allowed value, or one that is no secret by construction: ``REDACTED``, a placeholder, a hash."""
        if value in self._exact or is_placeholder(value) or is_hashed(value):
            return True
        return any(p.fullmatch(value) for p in self._patterns)

    def in_text(self, text: str, path: str, file: Path | None = None) -> Iterator[Finding]:
        """Credentials of a known format inside one string."""
        for match in pattern().finditer(text):
            found = match.group(0)
            if not self.allowed(found) and not self.allowed(text):
                yield Finding(file, path, kind_of(match), mask(found))

    def _found(self, value: str, path: str, kind: str, file: Path | None) -> Iterator[Finding]:
        if not self.allowed(value):
            yield Finding(file, path, kind, mask(value))

    def _in_header(self, name: str, value: str, path: str, file: Path | None) -> Iterator[Finding]:
        if name.lower() in ID_HEADERS:
            return
        for token in HEADER_TOKEN.findall(value):
            if high_entropy(token) and not self.allowed(token) and not self.allowed(value):
                yield Finding(file, path, "high-entropy token in a header", mask(token))

    def _in_string(
        self,
        value: str,
        where: str,
        name: str | None,
        in_headers: bool,
        file: Path | None,
        query: bool = False,
        whole_json: bool | None = None,
        base64: bool = True,
    ) -> Iterator[Finding]:
        """The rules for one string (`_rules`), and the base64 anywhere in it read as bytes (``base64``:
        unless the caller reads it so already), whatever the rules found in the string itself; then what
        it says with its escapes undone, where that holds more; ``whole_json``: whether it is whole JSON,
        when the caller parsed it already (None: look)."""
        if whole_json is None:
            whole_json = maybe_json(value) and embedded_json(value) is not None
        found = list(self._rules(value, where, name, in_headers, file, query, whole_json))
        if "\x00" in value:  # UTF-16 or UTF-32 to a client that sniffs (json.loads), NULs between letters
            found += self.in_bytes(value.encode("utf-8", "surrogatepass"), where, file)
        # base64 anywhere in it (the whole string, a Kubernetes secret's value in YAML, a MIME part, a blob
        # pasted in a message), read as a body is: base64 in what it decodes to is read there, in turn.
        for raw in base64_inside(value) if base64 and not whole_json else ():
            found += self.in_bytes(raw, f"{where} (base64-decoded)", file)
        yield from found
        # Its escapes undone (`unescaped`); whole JSON's strings are walked one by one.
        for reading in unescaped(value) if not whole_json else ():
            shown = {f.masked for f in found}
            yield from (f for f in self.scan(reading, f"{where} (unescaped)", file) if f.masked not in shown)

    def _rules(
        self,
        value: str,
        where: str,
        name: str | None,
        in_headers: bool,
        file: Path | None,
        query: bool,
        whole_json: bool,
    ) -> Iterator[Finding]:
        """Known formats anywhere; then, by its name, a secret-named field or header (in echoed objects
        named ``headers`` too), random tokens in headers, URLs, free text."""
        before = list(self.in_text(value, where, file))
        yield from before
        if before:
            return
        if name is not None and secret_value(name, value, query=query):
            yield from self._found(value, where, f"value of a field named {name!r}", file)
            return
        if name is not None and "," in value:  # a header sent twice, stored joined: "tok, tok"
            parts = [part.strip() for part in value.split(",")]
            for part in (p for p in parts if secret_value(name, p, query=query)):
                yield from self._found(part, where, f"value of a field named {name!r}", file)
        if name is not None and in_headers:
            yield from self._in_header(name, value, where, file)
        sent = in_headers or where.endswith("request.url")  # a URL a request went to, or a redirect
        for url in urls_in_text(value):
            secrets = url_secrets(url, paths=sent)
            for kind, secret in secrets:
                yield from self._found(secret, where, kind, file)
            shown = {mask(secret) for _, secret in secrets}
            yield from [f for f in self._in_query(url, where, file) if f.masked not in shown]
        for secret in free_text_secrets(value) if name == "user_agent" else connection_secrets(value):
            yield from self._found(secret, where, "credential in free text", file)
        if not whole_json:  # JSON inside text or cut short, code (`api_key="..."`): judge its pairs
            pairs = [(k, t) for k, t in json_pairs(value) if secret_value(k, t)]
            pairs += [pair for pair in code_secrets(value) if pair not in pairs]
            for key, text in pairs:
                yield from self._found(text, where, f"value of a field named {key!r} in its text", file)
        if not whole_json:  # a .env, YAML or INI file in any string (a tool's result), or one line of it:
            for secret in dict.fromkeys([*assigned_secrets(value), *inline_secrets(value)]):
                if token_like(secret):  # a token; prose shows `password: changeme`
                    yield from self._found(secret, where, LINE_SETTING, file)
        # A form in a string (an event, a multipart field): its fields. A URL's query is the URL rules'
        # (read as a form, its whole head would be taken for a field's name).
        if "=" in value and formish(value) and not url_like(value):
            yield from self._in_form(value, where, file)

    def _in_query(self, url: str, where: str, file: Path | None, depth: int = URL_DEPTH) -> list[Finding]:
        """The rules for each value of ``url``'s query and fragment as for any string (a connection string,
        a header line, a form pasted into ``?q=``), and the strings of one that is JSON: `url_secrets`
        judges a parameter by its name alone. A value that is a URL (percent-encoded again too) has its
        query read so, as deep as `url_secrets` reads, each layer once (not again with every rule)."""
        try:
            parts = urlsplit(as_url(url))
            pairs = parse_qsl(parts.query) + parse_qsl(parts.fragment)
        except ValueError:  # not a URL after all
            return []
        values = [value for _, value in pairs if len(value) >= 8]
        if not values:
            return []
        at = f"{where} (a query value)"
        with budget.nested() as deep:
            if deep:
                return [Finding(file, where, deep, NOT_CHECKED)]
            found: list[Finding] = []
            for value in values:  # a URL: its own query, a layer down; anything else: every rule
                if not one_url(value):  # text, or a link and then text
                    found += self._in_string(value, at, None, False, file)
                elif depth:
                    found += self._in_query(value, where, file, depth - 1)
            inner = [
                data for value in values if maybe_json(value) and (data := embedded_json(value)) is not None
            ]
            return found + (self.scan(inner, at, file) if inner else [])

    def in_bytes(
        self, data: bytes | str, path: str, file: Path | None = None, charset: str = "", media: str = ""
    ) -> list[Finding]:
        """A body stored as base64 (``str``) or a side file (``bytes``): decoded, decompressed, then
        scanned as JSON when it parses, else as text (known formats, URLs, form fields); read in the
        ``charset`` its content-type declares too; an SSE or NDJSON stream (its ``media`` type, or its
        first characters say) and a JSON array also as what their events say, assembled."""
        with budget.check() as spent, budget.nested() as deep:
            if deep:
                return [Finding(file, path, deep, NOT_CHECKED)]
            return self._in_bytes(data, path, file, spent, charset, media)

    def _in_bytes(
        self, data: bytes | str, path: str, file: Path | None, spent: list[int], charset: str, media: str
    ) -> list[Finding]:
        # Every layer a client would undo (`content-encoding: gzip, gzip`), each bounded: one that fills
        # the bound was not read to its end, and what was not read is not called clean.
        readings, stop = unpacked_texts(data, spent, charset, MAX_INFLATED)
        if stop:
            return [Finding(file, path, stop, NOT_CHECKED)]
        # Each reading is judged on its own, as what one client reads: a body that is clean JSON in
        # UTF-7 is not clean for the client that reads its UTF-8 (`response.json()` ignores charsets).
        findings: list[Finding] = []
        for where, text in dict.fromkeys(readings):
            seen = {(f.path, f.masked) for f in findings}  # the same value in two readings: once
            found = self._reading(text, path + where, file, media if not where else "")
            findings += [f for f in found if (f.path, f.masked) not in seen]
        return findings

    def _reading(self, text: str, path: str, file: Path | None, media: str) -> list[Finding]:
        """One reading of a body: its JSON's fields when it is JSON, else its strings and lines; and what
        its events say, assembled (an SSE or NDJSON stream, a JSON array of events)."""
        try:
            value = msgspec.json.decode(text)
        except (msgspec.DecodeError, RecursionError):
            found = [*self._in_string(text, path, None, False, file), *self._set(text, path, file)]
            return self._with_said(found, said_in_stream(text, media), path, file)
        return self._with_said(self.scan(value, path, file), said_in_array(value), path, file)

    def _set(self, text: str, path: str, file: Path | None) -> list[Finding]:
        """A whole text body's (or decoded file's) lines that set a secret name (a .env, YAML, INI)."""
        return [f for s in assigned_secrets(text) for f in self._found(s, path, LINE_SETTING, file)]

    def _in_form(self, text: str, path: str, file: Path | None) -> list[Finding]:
        with budget.nested() as deep:
            return [Finding(file, path, deep, NOT_CHECKED)] if deep else self._form(text, path, file)

    def _form(self, text: str, path: str, file: Path | None) -> list[Finding]:
        pairs = form_pairs(text)
        found = [f for k, v in pairs for f in self._in_string(v, f"{path}[{k!r}]", k, False, file, True)]
        inner = [(k, embedded_json(v)) for k, v in pairs if maybe_json(v)]  # a field holding JSON
        return found + [f for k, v in inner if v is not None for f in self.scan(v, f"{path}[{k!r}]", file)]

    def _expanded(self, value: dict[Any, Any], where: str, file: Path | None) -> list[Finding]:
        """What a stored request or response holds beyond JSON strings: base64 bodies, form fields,
        multipart text fields."""
        findings: list[Finding] = []
        headers = value.get("headers")  # by any case of their names, as clients read them
        headers = {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}
        ctype = header_value(headers, "content-type")
        if isinstance(value.get("base64"), str):
            findings += coded_findings(self, value["base64"], f"{where}.base64", file, headers)
        text = value.get("text")
        if isinstance(text, str) and ("status" in value or "method" in value):  # a stored body, not a
            findings += self._set(text, f"{where}.text", file)  # JSON object's `text` (`_in_string` has it)
        if isinstance(text, str) and media_type(str(ctype)) == FORM_TYPE and not formish(text):
            findings += self._in_form(text, f"{where}.text", file)  # formish text is one already
        parts = value.get("multipart")
        fields = [(i, p) for i, p in enumerate(parts if isinstance(parts, list) else []) if type(p) is dict]
        for i, part in fields:  # a field, read as a body of its content-type is: text, else base64 bytes
            at, name, ptype = f"{where}.multipart[{i}]", str(part.get("name", "")), part.get("content_type")
            field, encoded = part.get("value"), part.get("base64")
            if isinstance(field, str):
                findings += self._in_string(field, f"{at}.value", name, False, file)
                findings += self._set(field, f"{at}.value", file)
                if "\x00" in field:  # UTF-16 or UTF-32 (as versions before base64 fields stored them)
                    findings += self.in_bytes(field.encode("utf-8", "surrogatepass"), f"{at}.value", file)
            if isinstance(encoded, str):  # not UTF-8 text: its bytes as a base64 body's, and by its name
                findings += self.in_bytes(encoded, f"{at}.base64", file, declared_charset(ptype))
                for secret in [text for text in field_texts(encoded, ptype) if secret_value(name, text)][:1]:
                    findings += self._found(secret, f"{at}.base64", f"value of a field named {name!r}", file)
        return findings

    def scan(self, data: Any, path: str = "$", file: Path | None = None) -> list[Finding]:
        """Every finding in ``data`` (JSON-like builtins), walked without recursion (any depth is fine)."""
        with budget.check(), budget.nested() as deep:
            try:
                return [Finding(file, path, deep, NOT_CHECKED)] if deep else self._scan(data, path, file)
            except RecursionError:  # a library call ran out of stack: what is left is not called clean
                return [Finding(file, path, "a value nested deeper than the scanner reads", NOT_CHECKED)]

    def _scan(self, data: Any, path: str, file: Path | None) -> list[Finding]:
        findings: list[Finding] = []
        assembled: list[Finding] = []
        stack: list[tuple[Any, str, str | None, bool, bool]] = [(data, path, None, False, False)]
        while stack:
            value, where, name, in_headers, query = stack.pop()
            if isinstance(value, str):
                inner = embedded_json(value) if maybe_json(value) else None
                # A dict's `base64` is read as the body it is (its charset, its coding: `_expanded`).
                coded = where.endswith(".base64")
                whole = inner is not None
                findings += self._in_string(value, where, name, in_headers, file, query, whole, not coded)
                if inner is not None:  # JSON written into a string: its fields have names of their own
                    stack.append((inner, f"{where} (its JSON)", None, False, False))
            elif isinstance(value, int) and name is not None and secret_value(name, value):
                findings += self._found(str(value), where, f"value of a field named {name!r}", file)
            elif isinstance(value, dict):
                findings += self._expanded(value, where, file)
                if "status" in value:  # a response: a stream not stored as events (a JSON array, SSE text)
                    body, streaming = value.get("body"), value.get("is_streaming") is True
                    said = said_in_body(body, value.get("text"), value.get("headers"), streaming)
                    assembled += self._said(said, f"{where} (the text its pieces assemble)", file)
                for key, item in reversed(value.items()):
                    key = str(key)
                    # A key is a string like any other (a map keyed by URLs, by tokens): every rule
                    # applies, and a key found to be a credential is masked in the paths below it.
                    in_key = list(self._in_string(key, f"{where} (a key)", None, False, file))
                    findings += in_key
                    if maybe_json(key) and (inner := embedded_json(key)) is not None:  # JSON as a key
                        stack.append((inner, f"{where} (a key's JSON)", None, False, False))
                    judged, by_query = field_name(name, key, value)
                    below = where + step(mask(key) if in_key else key)
                    stack.append((item, below, judged, name == "headers", by_query))
            elif type(value) is enumerate:  # the next item of a list, the rest waiting behind it
                following = next(value, None)
                if following is not None:
                    i, item = following
                    stack.append((value, where, name, in_headers, query))
                    if name == "headers" and header_pair(item):  # [["Authorization", "Basic ..."], ...]
                        stack.append((item[1], f"{where}[{i}][1]", item[0], True, False))
                        stack.append((item[0], f"{where}[{i}][0]", None, False, False))
                    elif isinstance(item, (str, dict, list)) or (name is not None and isinstance(item, int)):
                        stack.append((item, f"{where}[{i}]", name, in_headers, query))
            elif isinstance(value, list):  # items of a secret-named list are judged by its name
                # One item at a time: a hostile file's list of millions would otherwise be millions of
                # paths at once (a 20 MB file of zeros took 1.8 GB).
                stack.append((enumerate(value), where, name, in_headers, query))
                if any(isinstance(v, dict) and "__data__" in v for v in value):  # a stream's events (a
                    # ping, with no data, may come first)
                    assembled += self._in_transcript(value, where, file)
        seen = {f.masked for f in findings}
        found = findings + [f for f in assembled if f.masked not in seen]  # new only when it was split
        return list(dict.fromkeys(found))  # one value reached two ways (a multipart field's) once

    def _in_transcript(self, events: list[Any], where: str, file: Path | None) -> list[Finding]:
        """What a stream's events say once their pieces are joined (`_said`)."""
        assembler = Assembler()
        for event in events:
            if isinstance(event, dict):  # raw events too: a spaced NDJSON line is JSON text
                assembler.add(event.get("__data__"))
        return self._said(assembler.result.said(), f"{where} (the text its events assemble)", file)

    def _said(self, said: list[str], path: str, file: Path | None) -> list[Finding]:
        """What a stream says once its pieces are joined (text, tool-call arguments), judged as a string
        and as the JSON it may be: a credential the model sent over many events is whole only there."""
        findings: list[Finding] = []
        for text in said:
            findings += self._in_string(text, path, None, False, file)
            inner = embedded_json(text) if maybe_json(text) else None
            findings += self.scan(inner, path, file) if inner is not None else []
        return findings

    def _with_said(
        self, found: list[Finding], said: list[str], path: str, file: Path | None
    ) -> list[Finding]:
        """``found``, and what ``said`` holds that it does not (a value split over events)."""
        seen = {f.masked for f in found}
        joined = self._said(said, f"{path} (the text its events assemble)", file) if said else []
        return found + [f for f in joined if f.masked not in seen]

    def scan_struct(self, value: msgspec.Struct, path: str, events: Strings | None = None) -> list[Finding]:
        """`scan` for a stored `Request`, `Response` or whole file; ``events``: the distinct strings of a
        response's stream events (`httpx_cassette.core.strings.of_events`), when already walked.

        Recording runs this on every request and response, so a long stream (a long conversation) is
        first reduced to its distinct strings and those are searched as one text (C speed); only a text
        with a candidate in it is walked value by value, with paths.
        """
        if isinstance(value, Response) and not may_hold_secret(*distinct_parts(value, events)):
            return self.scan({"headers": value.headers}, path) if value.headers else []
        if isinstance(value, Request) and clean_json_body(value):  # what was sent but its JSON body
            return self.scan(builtins(msgspec.structs.replace(value, body=UNSET)), path)
        return self.scan(builtins(value), path)
