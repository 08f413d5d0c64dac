"""What a converted exchange goes through before it is written: the redaction and the secret check a live
recording gets, with the very objects a `Cassette` records with.

A live recording stores a request as `to_record` and `Cassette.plan` make it (its URL through
`redact_url`, then the cassette's `Redaction`, then the scan), and a response as `Capture` and
`Cassette.save` make it (its headers through `response_headers`, then the `Redaction`, then the scan;
``meta.user_agent`` too). `Guard` applies the same steps to what a converter read from another
recorder's files, plus the parts of a llama-stack recording kept to write it back (`Origin`): they are
written too. What still looks like a credential stops the conversion of that file: `SecretRefused`,
one line naming the source file and the masked findings, and nothing of that file is written; the CLI
goes on with the other files (`Guard.refusals` names every refused recording of a folder).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec

from httpx_cassette.core.echoes import carried, scrubbed
from httpx_cassette.core.key import KeyOptions
from httpx_cassette.core.places import redact_url
from httpx_cassette.core.redact import REDACTED, SECRET_HEADERS, kept_request_headers, response_headers
from httpx_cassette.core.request import LiveRequest
from httpx_cassette.core.scan import Finding
from httpx_cassette.errors import CassetteError, CassetteFormatError, CassetteSecretError
from httpx_cassette.model.cassette import CassetteFile, Origin, Request, Response, builtins
from httpx_cassette.storage.cassette import Cassette
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["Guard", "SecretRefused"]

_SHOWN = 3  # findings named in the one-line message; the rest are counted


class SecretRefused(CassetteFormatError, CassetteSecretError):
    """A file that converting would write with what looks like a credential in it; nothing of it was
    written. A `CassetteFormatError` (the CLI exits 1, as for a broken file) and a `CassetteSecretError`
    (``findings`` lists them, masked)."""

    def __init__(self, source: str | os.PathLike[str], what: str, findings: list[Finding]) -> None:
        shown = "; ".join(str(f) for f in findings[:_SHOWN])
        more = f"; and {len(findings) - _SHOWN} more" if len(findings) > _SHOWN else ""
        message = (
            f"refusing to convert {os.fspath(source)}: {what} holds what looks like a credential after"
            f" redaction, so nothing of that file was written: {shown}{more} (remove it from the source;"
            " if it is not a secret, pass --allow VALUE or --allow-pattern REGEX)"
        )
        CassetteError.__init__(self, message)
        self.path, self.problem, self.findings = os.fspath(source), message, list(findings)


def _headers(headers: Any) -> Any:
    """Request headers a llama-stack file keeps, each as recording stores a request header it keeps
    (`kept_request_headers`): a secret one (by its name, or a random token as its value) as its slow hash."""
    if not isinstance(headers, dict):
        return headers
    return {name: _header(str(name), value) for name, value in headers.items()}


def _header(name: str, value: Any) -> Any:
    if not isinstance(value, str) or value == REDACTED:  # REDACTED: a secret header, hidden already
        return value
    lower = name.lower()
    return kept_request_headers({lower: value}, (lower,))[lower]


class Guard:
    """The redaction and the secret check of a live recording, for converted exchanges.

    Its `Redaction` and `SecretScanner` are those of a `Cassette` for ``destination`` with the default
    configuration (``allow``: values that are no secret, exact strings or compiled patterns, as
    ``allow_secrets``), so converting keeps off disk exactly what recording keeps off disk.
    """

    def __init__(self, destination: Path, allow: Iterable[str | re.Pattern[str]] = ()) -> None:
        recorder = Cassette(destination, mode="replay", allow_secrets=list(allow))  # reads, writes nothing
        self.redaction = recorder.redaction
        self.scanner = recorder.scanner

    def request(self, request: Request) -> Request:
        """``request`` as recording stores (and keys) it: the URL as `to_record` stores it, then the
        cassette's redaction (`Cassette.plan`)."""
        return self.redaction.request(msgspec.structs.replace(request, url=redact_url(request.url)))

    def carried(self, request: LiveRequest) -> frozenset[str]:
        """The credentials ``request`` (as the other recorder kept it) carried that its conversion does not
        keep, as `Cassette.plan` finds them for a live request (`httpx_cassette.core.echoes.carried`)."""
        return carried(request, self.redaction.headers, self.redaction.placeholders.hiding)

    def response(self, response: Response, secrets: frozenset[str] = frozenset()) -> Response:
        """``response`` as recording stores it: what its request carried (``secrets``, see `carried`)
        written as ``REDACTED`` where it comes back (`scrubbed`, which raises `CassetteSecretError` for
        an echo it cannot rewrite), its headers as `Capture` keeps them (a ``content-encoding`` kept with
        a body stored as it came stays), then the cassette's redaction (`Cassette.save`); a llama-stack
        `Origin` as well."""
        response = scrubbed(response, secrets)
        headers = response_headers(response.headers.items(), SECRET_HEADERS)
        redacted = self.redaction.response(msgspec.structs.replace(response, headers=headers))
        if response.origin is None:
            return redacted
        return msgspec.structs.replace(redacted, origin=self._origin(response.origin))

    def _origin(self, origin: Origin) -> Origin:
        """The URL a llama-stack file was recorded against, and the file kept to write it back (its
        request URL and its JSON), redacted by the same rules."""
        rest = origin.rest
        if isinstance(rest, dict) and isinstance(rest.get("template"), dict):
            rest = {**rest, "template": self._template(rest["template"])}
        return msgspec.structs.replace(origin, url=self._url(origin.url), rest=rest)

    def _url(self, url: str) -> str:
        return self.request(Request(method="GET", url=url)).url

    def _template(self, template: dict[str, Any]) -> Any:
        stored = template.get("request")
        if isinstance(stored, dict):
            stored = {**stored, "headers": _headers(stored.get("headers"))}
            if isinstance(stored.get("url"), str):
                stored["url"] = self._url(stored["url"])
            body = stored.get("body")
            if isinstance(body, dict) and "extra_headers" in body:
                stored["body"] = {**body, "extra_headers": _headers(body["extra_headers"])}
            if "headers" not in template["request"]:
                del stored["headers"]
            template = {**template, "request": stored}
        # Secret-named fields at any depth, as in a recorded JSON body (request body, response objects,
        # exception data, echoed headers).
        return self.redaction.response(Response(status=200, body=template)).body

    def file(self, cassette: CassetteFile) -> CassetteFile:
        """``cassette`` (read from another recorder's file) as recording would write it; see `check`."""
        meta = msgspec.structs.replace(
            cassette.meta, user_agent=self.redaction.meta(cassette.meta.user_agent)
        )
        responses = [self.response(r) for r in cassette.responses]
        return CassetteFile(request=self.request(cassette.request), responses=responses, meta=meta)

    def check(self, cassette: CassetteFile, source: str | os.PathLike[str]) -> None:
        """Raise `SecretRefused` naming ``source`` if the (redacted) ``cassette`` holds what looks like a
        credential: the scan of `Cassette.plan` and `Cassette.save`, over all that is written."""
        request = cassette.request
        findings = self.scanner.scan_struct(request, "$.request")
        for i, response in enumerate(cassette.responses):
            findings += self.scanner.scan_struct(response, f"$.responses[{i}]")
        findings += self.scanner.scan(builtins(cassette.meta), "$.meta")
        if findings:
            # The URL is named only when the scan found nothing in it: the message goes to CI logs.
            in_url = any(f.path.startswith("$.request.url") for f in findings)
            what = f"a {request.method} request" if in_url else f"{request.method} {request.url}"
            raise SecretRefused(source, f"the recording of {what}", findings)

    def refusals(self, directory: Path) -> list[SecretRefused]:
        """What `check` refuses among the recordings ``directory`` holds (ours and llama-stack's, as
        converting reads them), one `SecretRefused` per file: converting stops at the first, and this names
        them all. A file that cannot be redacted (nested too deep) is left to the conversion to report."""
        found: list[SecretRefused] = []
        for _, file, cassette in DirectoryStore(directory, KeyOptions()).items():
            try:
                self.check(self.file(cassette), file)
            except SecretRefused as refused:
                found.append(refused)
            except RecursionError:
                continue
        return found
