"""One session's recordings of one request, merged into that request's file as it is on disk now.

Several processes (or threads, each with its own cassette) may record the same request at the same
time. Every write happens under the directory lock and starts from the file as it is on disk then:
the responses other sessions wrote stay, in their order; this session's responses follow, in the order
its requests were made. In record mode, what the file held when this session first touched the request
is dropped on its first write (record overwrites what it touches), and only that.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import msgspec

from httpx_cassette.model.cassette import Request, Response

__all__ = ["Recording"]

_encode = msgspec.json.Encoder().encode


def _take(responses: list[Response], wanted: Response) -> bool:
    """Remove one response equal to ``wanted`` from ``responses``; whether there was one. Equal as
    written: a recording may hold its events' data as JSON text, the file read back as objects."""
    for i, response in enumerate(responses):
        if response == wanted:
            del responses[i]
            return True
    written = _encode(wanted)
    for i, response in enumerate(responses):
        if _encode(response) == written:
            del responses[i]
            return True
    return False


@dataclass
class Recording:
    """This session's side of one request's file."""

    request: Request
    kept: list[Response]  # in the file when this session first touched it, replayed first (record-missing)
    stale: list[Response]  # in the file when this session first touched it, to drop (record mode)
    slots: list[Response | None] = field(default_factory=list)  # this session's responses, in request order
    stored: dict[int, Response] = field(default_factory=dict)  # slot -> the response as last written

    def merge(self, current: list[Response]) -> tuple[list[Response], list[int]]:
        """The file's new responses given those on disk now, and the slots written (in file order, last)."""
        others = list(current)
        done = [(slot, response) for slot, response in enumerate(self.slots) if response is not None]
        ours: list[Response] = []
        for slot, original in done:
            written = self.stored.get(slot)
            # A response written before keeps its stored form (side-file names included) if it is still
            # there; if another session dropped it, it is written again from the original.
            ours.append(written if written is not None and _take(others, written) else original)
        for response in self.stale:
            _take(others, response)
        return [*others, *ours], [slot for slot, _ in done]

    def wrote(self, responses: list[Response], slots: list[int]) -> None:
        """Remember what the write of `merge`'s result stored (``responses``: the file's list as written)."""
        self.stale = []
        for slot, response in zip(slots, responses[len(responses) - len(slots) :], strict=True):
            self.stored[slot] = response
