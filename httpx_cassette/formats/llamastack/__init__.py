"""llama-stack recording files <-> our cassette model, and converting directories between the two.

A llama-stack recording (``tests/integration/*/recordings/<sha256>.json``, written by llama-stack's test
recorder) is one JSON object::

    {"test_id": ..., "request": {"method", "url", "headers", "body", "endpoint", "model"},
     "response": {"body", "is_streaming", ["is_exception", "exception_data", "exception_message"]},
     "id_normalization_mapping": {...}}

where each object in ``response.body`` is ``{"__type__": <SDK class>, "__data__": <its model_dump>}``.

Reading (`from_llama_stack`, the rules in `_llamastack_read`) gives a `CassetteFile` whose request is
what the OpenAI SDK sends on the wire, so the ordinary key finds it, and whose response is what the SDK
receives. The response keeps the file's ``test_id`` (cassette scopes select by it) and an `Origin`
with what replay does not need, so `to_llama_stack` writes the same JSON back (`_llamastack_roundtrip`).

Writing (`llama_stack_files`): one response per file, named by llama-stack's request hash, a
request's later responses in ``<name>.1.json``, ``<name>.2.json``... (`_llamastack_files`); each is the
recording llama-stack's recorder would write (`_llamastack_write`). A response llama-stack cannot hold
so that it replays unchanged makes `llama_stack_files` return None: the store then writes that request
in our format, which it reads from the same directory.

Converting directories: `convert_directory` (`_llamastack_convert`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from httpx_cassette.formats.llamastack.convert import convert_directory
from httpx_cassette.formats.llamastack.files import llama_stack_bytes, llama_stack_files, recording_name
from httpx_cassette.formats.llamastack.read import LLAMA_STACK, echoes_scrubbed, read
from httpx_cassette.formats.llamastack.roundtrip import kept, llama_stack_origin, to_llama_stack
from httpx_cassette.model.cassette import CassetteFile, FileFormat, Meta, Origin

__all__ = [
    "FORMAT",
    "LLAMA_STACK",
    "convert_directory",
    "from_llama_stack",
    "held_format",
    "llama_stack_bytes",
    "llama_stack_files",
    "recording_name",
    "to_llama_stack",
]


def from_llama_stack(raw: Any, source: str) -> CassetteFile:
    """The cassette one llama-stack recording stands for; errors name ``source`` and the JSON path. What
    its request carried (a key header, ``extra_headers``) is ``REDACTED`` where its response sends it
    back, as recording writes it (`echoes_scrubbed`): in what is served and converted, and in what is
    kept to write the file back."""
    raw = echoes_scrubbed(raw)
    request, response = read(raw, source)
    url = raw["request"].get("url")
    recorded_at = url if isinstance(url, str) else ""
    response.origin = Origin(format=LLAMA_STACK, file=Path(source).name, url=recorded_at)
    response.origin.rest = kept(raw, request, response)
    return CassetteFile(request=request, responses=[response], meta=Meta(recorder=LLAMA_STACK))


def held_format(file: Path, cassette: CassetteFile) -> FileFormat:
    """``"llama-stack"`` for what `from_llama_stack` read from ``file`` itself, else ``"ours"``. Only
    `from_llama_stack` names its own file in an origin: in a file our decoder read, the codec drops an
    origin naming that file, so one claiming ``"origin": {"format": "llama-stack", "file": <its own
    name>}`` stays ours."""
    origin = llama_stack_origin(cassette.responses[0]) if len(cassette.responses) == 1 else None
    if origin is not None and origin.file == file.name:
        return LLAMA_STACK
    return "ours"


class LlamaStackFormat:
    """llama-stack's recordings as a `httpx_cassette.storage.formats.Format`."""

    name = LLAMA_STACK

    def detects(self, value: Any) -> bool:
        return isinstance(value, dict) and "response" in value and "responses" not in value

    def read(self, value: Any, source: str) -> CassetteFile:
        return from_llama_stack(value, source)

    def held_by(self, file: Path, cassette: CassetteFile) -> bool:
        return held_format(file, cassette) == LLAMA_STACK

    def files(self, cassette: CassetteFile) -> list[tuple[str, Any]] | None:
        found = llama_stack_files(cassette)
        return None if found is None else list(found)

    def encode(self, content: Any) -> bytes:
        return llama_stack_bytes(content)


FORMAT = LlamaStackFormat()
