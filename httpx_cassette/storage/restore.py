"""A stored response made ready to replay: its body file read, its placeholders' secrets put back where
the recording proved it wrote them (`httpx_cassette.core.seal`), prepared to be served many times."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Protocol

from httpx_cassette.config import CassetteConfig, ReplayChunks, ReplayTiming
from httpx_cassette.core.redact import Redaction
from httpx_cassette.core.replay import Prepared, prepare
from httpx_cassette.core.seal import proven
from httpx_cassette.errors import CassetteFormatError
from httpx_cassette.model.cassette import Request, Response
from httpx_cassette.storage.store import DirectoryStore

__all__ = ["prepared"]


class Cassette(Protocol):
    """What `prepared` reads of a `httpx_cassette.storage.cassette.Cassette`."""

    path: Path
    config: CassetteConfig
    redaction: Redaction
    store: DirectoryStore
    replay_timing: ReplayTiming
    replay_chunks: ReplayChunks


def prepared(cassette: Cassette, key: str, index: int, response: Response, request: Request) -> Prepared:
    """Response ``index`` of the file under ``key`` as ``cassette`` replays it to ``request``."""
    body = cassette.store.body_file_bytes(key, response)
    file = cassette.store.file_of(key) or cassette.path
    redaction = cassette.redaction
    if redaction.placeholders and not cassette.config.redact.restore_unsealed:
        good, unproven = proven(response, key, redaction.placeholders.secrets, body)
        if unproven:
            warnings.warn(_unsealed(str(file), index, unproven), UserWarning, stacklevel=4)
        if len(good) < len(redaction.placeholders.secrets):
            redaction = redaction.with_placeholders(good)
    try:
        restored = redaction.restore(response, request.url)
        body = body if body is None else redaction.restore_bytes(body, request.url)
        return prepare(restored, cassette.replay_timing, body, cassette.replay_chunks)
    except (ValueError, TypeError, RecursionError) as exc:  # a file edited into something unplayable
        raise CassetteFormatError(str(file), f"response {index} cannot be replayed: {exc}") from None


def _unsealed(file: str, index: int, names: list[str]) -> str:
    listed = ", ".join(names)
    return (
        f"{file}: response {index} holds {listed} but no seal proving the recording wrote it there, so it"
        " is replayed as that text, not as its secret (a cassette is read back from pull requests: anyone"
        " can write a placeholder into an answer). If you edited the response by hand, or it was recorded"
        " before seals, record it again; if the value is no secret (a fake one CI replays with), pass"
        " restore_unsealed=True."
    )
