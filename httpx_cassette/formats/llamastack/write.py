"""The llama-stack recording of one of our responses, as llama-stack's recorder would write it.

The request is stored as the SDK's keyword arguments; response bodies as they came over the wire,
typed with the SDK class llama-stack validates them into when it reads them; HTTP errors and transport
failures as the exceptions the SDK raised. Response headers and timings are not kept.
"""

from __future__ import annotations

import array
import base64
import json
from typing import Any
from urllib.parse import urlsplit

import msgspec
from msgspec import UNSET

from httpx_cassette.core.events import SDK_TYPE_BY_OBJECT, type_name
from httpx_cassette.formats.llamastack.read import is_model_list, web_host
from httpx_cassette.model.cassette import Origin, Request, Response, TransportFailure

__all__ = ["derive", "seen_by_llama_stack"]

_DOUBLED = ("/chat/completions", "/completions", "/embeddings", "/models")  # llama-stack adds /v1 to these
_MODEL = SDK_TYPE_BY_OBJECT["model"]
_EMBEDDINGS = "openai.types.create_embedding_response.CreateEmbeddingResponse"
# The OpenAI SDK's exception class for each status (`OpenAI._make_status_error`).
_ERROR_CLASSES = {
    400: "BadRequestError",
    401: "AuthenticationError",
    403: "PermissionDeniedError",
    404: "NotFoundError",
    409: "ConflictError",
    422: "UnprocessableEntityError",
    429: "RateLimitError",
}


def derive(request: Request, response: Response) -> dict[str, Any]:
    """The recording llama-stack's recorder would write, from what we hold."""
    request, response = seen_by_llama_stack(request, response)
    return {
        "test_id": response.test_id if isinstance(response.test_id, str) else None,
        "request": _stored_request(request, response.origin),
        "response": _stored_response(response, urlsplit(request.url).path or "/"),
        "id_normalization_mapping": {},
    }


def seen_by_llama_stack(request: Request, response: Response) -> tuple[Request, Response]:
    """Embeddings the SDK asked for as base64 by default are stored as the floats it decodes them to."""
    body, data = request.body, response.body
    if not (isinstance(body, dict) and body.get("encoding_format") == "base64"):
        return request, response
    if not (urlsplit(request.url).path.endswith("/embeddings") and isinstance(data, dict)):
        return request, response
    items = data.get("data")
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        return request, response
    if not any(isinstance(i.get("embedding"), str) for i in items):
        return request, response
    decoded = [
        {**i, "embedding": _floats(v)} if isinstance(v := i.get("embedding"), str) else i for i in items
    ]
    kwargs = {k: v for k, v in body.items() if k != "encoding_format"}
    return (
        msgspec.structs.replace(request, body=kwargs),
        msgspec.structs.replace(response, body={**data, "data": decoded}),
    )


def _stored_request(request: Request, origin: Origin | None) -> dict[str, Any]:
    """The SDK call: its keyword arguments, sent to the host a file read back was recorded against."""
    parts = urlsplit(request.url)
    path = parts.path or "/"
    recorded = web_host(urlsplit(origin.url)) if origin is not None else None
    host = recorded or f"{parts.scheme}://{parts.netloc}"
    kwargs = request.body if isinstance(request.body, dict) else {}
    return {
        "method": "POST" if is_model_list(path) else request.method,  # llama-stack writes POST for all
        "url": host + _recorded_path(path) + (f"?{parts.query}" if parts.query else ""),
        "headers": {},
        "body": kwargs,
        "endpoint": path,
        "model": kwargs.get("model", ""),
    }


def _floats(encoded: str) -> list[float]:
    return array.array("f", base64.b64decode(encoded)).tolist()  # little-endian float32, as the SDK reads it


def _recorded_path(path: str) -> str:
    """llama-stack's ``url`` path: its SDK base URL (``.../v1``) plus ``/v1/<resource>``, so doubled."""
    for suffix in _DOUBLED:
        base = path[: -len(suffix)]
        if path.endswith(suffix) and base.endswith("/v1"):
            return base + "/v1" + suffix
    return path


def _typed(data: Any, kind: str | None) -> Any:
    return {"__type__": kind, "__data__": data} if kind else data


# -- the response --------------------------------------------------------------------------------


def _stored_response(response: Response, path: str) -> dict[str, Any]:
    if response.status >= 400:
        return _status_exception(response)
    failure = response.error
    if response.status == 0:
        failure = failure or TransportFailure(type="TransportError")
        return {"body": None, "is_streaming": False, **_unknown_exception(failure)}
    if response.is_streaming:
        chunks = [_typed(e.parsed(), e.type or type_name(e.parsed())) for e in response.events()]
        stored: dict[str, Any] = {"body": chunks, "is_streaming": True}
        return {**stored, **_unknown_exception(failure)} if failure is not None else stored
    body = response.body
    if body is UNSET:
        return {"body": None, "is_streaming": False}
    return {"body": _typed_body(body, path), "is_streaming": False}


def _typed_body(body: Any, path: str) -> Any:
    """A JSON body with the SDK class llama-stack validates it into: a models list item by item."""
    items = body.get("data") if isinstance(body, dict) and is_model_list(path) else None
    if isinstance(items, list):
        return [
            _typed(m, _MODEL if isinstance(m, dict) and m.get("object") == "model" else None) for m in items
        ]
    kind = body.get("object") if isinstance(body, dict) else None
    embeddings = kind == "list" and path.endswith("/embeddings")
    typed = _EMBEDDINGS if embeddings else SDK_TYPE_BY_OBJECT.get(str(kind))
    return _typed(body, typed)


def _exception_fields(data: dict[str, Any], message: str) -> dict[str, Any]:
    return {"is_exception": True, "exception_data": data, "exception_message": message}


def _unknown_exception(failure: TransportFailure) -> dict[str, Any]:
    data = {"category": "unknown", "type": failure.type, "message": failure.message}
    return _exception_fields(data, failure.message)


def _status_exception(response: Response) -> dict[str, Any]:
    """An HTTP error as the OpenAI SDK raised it: its class, message and body, and the status code."""
    status = response.status
    value, message = _error_body(response)
    kind = _ERROR_CLASSES.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
    data = {
        "category": "provider_sdk",
        "provider": "openai",
        "type": kind,
        "message": message,
        "status_code": status,
        "body": value.get("error", value) if isinstance(value, dict) else value,
    }
    return {"body": None, "is_streaming": False, **_exception_fields(data, message)}


def _error_body(response: Response) -> tuple[Any, str]:
    """The body of an HTTP error as the SDK parsed it, and the message of the exception it raised."""
    status = response.status
    if response.body is not UNSET and not response.is_streaming:
        return response.body, f"Error code: {status} - {response.body}"
    if isinstance(response.text, str) and response.text.strip():
        text = response.text.strip()
        try:
            value = json.loads(text)
        except ValueError:
            return text, text
        return value, f"Error code: {status} - {value}"
    return "", f"Error code: {status}"
