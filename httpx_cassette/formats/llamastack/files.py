"""The llama-stack files of a cassette: their names (the request hash), order, and bytes.

llama-stack keeps one response per file, named by the sha256 of
``{"method", "endpoint": <url path>, "body", "test_id"}`` (`recording_name`). The responses our file
holds for one request, in order, go to ``<name>.json``, ``<name>.1.json``, ``<name>.2.json``...
(responses of different tests to different names): llama-stack reads the first (it replays one
response per request and test), httpx_cassette reads them all, in that order.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlsplit

from httpx_cassette.formats.llamastack.read import MODEL_LISTS, payload
from httpx_cassette.formats.llamastack.roundtrip import llama_stack_origin, to_llama_stack
from httpx_cassette.model.cassette import CassetteFile, Response
from httpx_cassette.storage.formats import order_key

__all__ = ["llama_stack_bytes", "llama_stack_files", "recording_name"]

_LONG_DECIMAL = re.compile(r"-?\d+\.\d{4,}")
_SAFE_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\.json")  # a plain name: never a path elsewhere


def llama_stack_files(cassette: CassetteFile) -> list[tuple[str, dict[str, Any]]] | None:
    """(file name, recording) for each response of ``cassette``, in order; None if one cannot be held.

    A response read from a llama-stack file keeps that file's name (unless an earlier response of
    another request and test took it: then the name llama-stack gives it); the later responses for the
    same request and test are ``<name>.1.json``, ``<name>.2.json``... so they sort after it.
    """
    recordings: list[tuple[Response, dict[str, Any]]] = []
    for response in cassette.responses:
        recording = to_llama_stack(cassette.request, response)
        if recording is None:
            return None
        recordings.append((response, recording))
    stems: dict[str, str] = {}
    counts: dict[str, int] = {}
    files: list[tuple[str, dict[str, Any]]] = []
    for response, recording in recordings:
        group = recording_name(recording)
        if group not in stems:  # a name read from the source is any it says: two may claim one
            stem = order_key(_read_from(response) or group)[0]
            stems[group] = order_key(group)[0] if stem in stems.values() else stem
        stem = stems[group]
        number = counts[group] = counts.get(group, -1) + 1
        files.append((f"{stem}.json" if number == 0 else f"{stem}.{number}.json", recording))
    return files


def _read_from(response: Response) -> str | None:
    """The name of the llama-stack file ``response`` was read from, when it is a plain file name."""
    origin = llama_stack_origin(response)
    return origin.file if origin is not None and _SAFE_FILE.fullmatch(origin.file) else None


def llama_stack_bytes(recording: dict[str, Any]) -> bytes:
    """A recording as llama-stack's recorder writes it: ``json.dump(indent=2)`` and a newline."""
    return (json.dumps(recording, indent=2) + "\n").encode("ascii")


def recording_name(recording: dict[str, Any]) -> str:
    """The file name llama-stack's recorder gives ``recording``: ``<sha256>.json``, and for a models
    list ``models-<sha256>-<8 hex of its model ids>.json``. `ValueError` for a recording whose
    ``request`` has no string ``url`` and ``method`` (llama-stack's recorder writes both)."""
    stored = recording.get("request")
    if not isinstance(stored, dict):
        raise ValueError("its `request` is not an object")
    url, method = stored.get("url"), stored.get("method")
    if not isinstance(url, str):
        raise ValueError(f"its `request.url` is {_kind(url)}, not a string")
    if not isinstance(method, str):
        raise ValueError(f"its `request.method` is {_kind(method)}, not a string")
    path = urlsplit(url).path
    hashed: dict[str, Any] = {"method": method.upper(), "endpoint": path}
    hashed["body"] = _hash_form(stored.get("body"))
    if path not in MODEL_LISTS:
        hashed["test_id"] = recording.get("test_id")
    digest = hashlib.sha256(json.dumps(hashed, sort_keys=True).encode()).hexdigest()
    if stored.get("endpoint") not in MODEL_LISTS:
        return f"{digest}.json"
    response = recording.get("response")
    body = response.get("body") if isinstance(response, dict) else None
    items = body if isinstance(body, list) else []
    ids = sorted({str(payload(m).get("id")) for m in items if isinstance(payload(m), dict)})
    return f"models-{digest}-{hashlib.sha256('|'.join(ids).encode()).hexdigest()[:8]}.json"


def _kind(value: Any) -> str:
    return "null" if value is None else f"a {type(value).__name__}"


def _hash_form(value: Any) -> Any:
    """The body as llama-stack hashes it: floats, and long decimals inside strings, to 5 places.

    Without recursion: a body may nest deeper than Python recurses (ours read it, so must this)."""
    top: list[Any] = [None]
    todo: list[tuple[Any, Any, Any]] = [(value, top, 0)]  # (a value, the container of its form, where)
    while todo:
        item, into, at = todo.pop()
        if isinstance(item, dict):
            into[at] = form = dict.fromkeys(item)  # the keys in their order; the values filled in below
            todo.extend((v, form, k) for k, v in item.items())
        elif isinstance(item, list):
            into[at] = form_list = [None] * len(item)
            todo.extend((v, form_list, i) for i, v in enumerate(item))
        elif isinstance(item, float):
            into[at] = round(item, 5)
        elif isinstance(item, str):
            into[at] = _LONG_DECIMAL.sub(lambda m: f"{float(m.group(0)):.5f}", item)
        else:
            into[at] = item
    return top[0]
