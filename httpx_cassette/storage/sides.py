"""Binary bodies too large to paste into a cassette file as base64, moved to side files of their own."""

from __future__ import annotations

import base64
import hashlib
import operator
from pathlib import Path

import msgspec
from msgspec import UNSET

from httpx_cassette.model.cassette import CassetteFile, Response
from httpx_cassette.storage.files import side_name, write_atomic

__all__ = ["move_large_bodies"]


def move_large_bodies(
    file: Path, cassette: CassetteFile, max_inline_bytes: int, side_written: dict[Path, str]
) -> CassetteFile:
    """``cassette`` (to be written as ``file``) with each body stored as base64 and larger than
    ``max_inline_bytes`` written to a side file and named by ``body_file``; ``side_written``: the sha256
    of what was last written to each side file (an unchanged one is not rewritten). ``cassette`` itself
    when nothing moved."""
    responses: list[Response] = []
    taken = {r.body_file for r in cassette.responses if isinstance(r.body_file, str)}
    for index, response in enumerate(cassette.responses):
        if isinstance(response.base64, str) and len(response.base64) > max_inline_bytes * 4 // 3:
            data = base64.b64decode(response.base64)
            if len(data) > max_inline_bytes:
                number = index
                while side_name(file, number) in taken:  # a merged file keeps other writers' names
                    number += 1
                side = file.with_name(side_name(file, number))
                taken.add(side.name)
                digest = hashlib.sha256(data).hexdigest()
                if side_written.get(side) != digest:  # a file is rewritten per response saved
                    write_atomic(side, data, durable=True)  # the JSON will point to it
                    side_written[side] = digest
                response = msgspec.structs.replace(response, base64=UNSET, body_file=side.name)
        responses.append(response)
    if all(map(operator.is_, responses, cassette.responses)):  # nothing moved: the file as it was
        return cassette
    return msgspec.structs.replace(cassette, responses=responses)
