"""Two endpoints for tests of what reaches disk: an echo of the request, and canned responses.

``GET|POST /v1/echo/<anything>``
    Answers JSON describing the request as the server saw it: ``method``, ``path``, ``query`` (a dict),
    ``headers`` (the request's ``x-*`` headers, SDK telemetry ``x-stainless-*`` left out), and ``body``
    (parsed JSON, a form as a dict, multipart text fields as a dict, else the text). What a client
    sends comes back in the response, as an API that echoes its input does.
``GET|POST /v1/canned/<name>``
    Answers exactly what a test put in ``app.canned[name]`` (a `Canned`: status, headers, raw body
    bytes), so tests can make responses with any header, content type or encoding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from starlette.requests import Request

__all__ = ["Canned", "canned_endpoint", "echo"]


@dataclass
class Canned:
    """A response to send as it is: status, headers (repeats allowed) and raw body bytes."""

    content: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    status: int = 200


def _multipart_fields(raw: bytes, content_type: str) -> dict[str, str]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + raw
    )
    fields: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if part.get_filename() is None and isinstance(payload, bytes):
            fields[str(name)] = payload.decode("utf-8", "replace")
    return fields


def _body(raw: bytes, content_type: str) -> Any:
    if not raw:
        return None
    if content_type.startswith("application/json"):
        return json.loads(raw)
    if content_type.startswith("application/x-www-form-urlencoded"):
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    if content_type.startswith("multipart/form-data"):
        return _multipart_fields(raw, content_type)
    return raw.decode("utf-8", "replace")


async def echo(request: Request) -> Response:
    """The request as the server saw it, as JSON."""
    raw = await request.body()
    headers = {
        k: v for k, v in request.headers.items() if k.startswith("x-") and not k.startswith("x-stainless")
    }
    return JSONResponse(
        {
            "object": "echo",
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": headers,
            "body": _body(raw, request.headers.get("content-type", "")),
        }
    )


def canned_endpoint(table: dict[str, Canned]) -> Callable[[Request], Awaitable[Response]]:
    """The endpoint serving ``table[name]``; an unknown name is a 404."""

    async def canned(request: Request) -> Response:
        await request.body()
        found = table.get(request.path_params["name"])
        if found is None:
            return JSONResponse({"error": {"message": "no canned response", "type": "not_found"}}, 404)
        response = Response(found.content, status_code=found.status)
        for name, value in found.headers:
            response.raw_headers.append((name.lower().encode("latin-1"), value.encode("latin-1")))
        return response

    return canned
