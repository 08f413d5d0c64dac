"""The exceptions users see. Each message says what happened, where, and what to do next."""

from __future__ import annotations

__all__ = [
    "CassetteAgeWarning",
    "CassetteError",
    "CassetteExpired",
    "CassetteFormatError",
    "CassetteMiss",
    "CassetteSecretError",
    "NetworkBlocked",
    "NotAnExchangeError",
    "hidden_in_a_miss",
    "printable",
]

# What a terminal must never get from a cassette (a pull request's): control characters (an ESC sequence
# could rewrite the screen, hide a line or set the clipboard), and the bidirectional overrides and
# isolates a Trojan Source trick uses to show text in another order than it is, and lone surrogates (a
# file name that is no UTF-8: printing one raises on a UTF-8 terminal). Newlines and tabs stay.
_ESCAPED = {
    c: f"\\x{c:02x}" if c < 256 else f"\\u{c:04x}"
    for c in (*range(32), 127, *range(128, 160), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F))
    if c not in (9, 10)
} | {c: f"\\u{c:04x}" for c in (*range(0x2066, 0x206A), 0x2028, 0x2029, *range(0xD800, 0xE000))}


def printable(text: str) -> str:
    """``text`` with what a terminal must not get from a file written as ``\\x..``/``\\u....`` escapes."""
    return text.translate(_ESCAPED)


def one_line(text: str) -> str:
    """`printable`, with line breaks and tabs escaped too: a file's name or field in a line of output (a
    table's cell, a finding, a problem) must not split it and forge lines of its own."""
    return printable(text).replace("\n", "\\n").replace("\t", "\\t")


class CassetteError(Exception):
    """Base class of every error httpx_cassette raises. Its message is escaped (`printable`) here, once
    for all: a file name or a field from a pull request can sit anywhere in it (a twin file's name, a
    missing side file, the file an age warning names), and it reaches pytest's output and CI logs."""

    def __init__(self, *args: object) -> None:
        if args and isinstance(args[0], str):
            args = (printable(args[0]), *args[1:])
        super().__init__(*args)


class CassetteFormatError(CassetteError):
    """A cassette file that cannot be read: names the file and what is wrong with it."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        # A file name from a pull request reaches the terminal (pytest's failure line): escaped.
        super().__init__(f"broken cassette file {one_line(path)}: {problem}")


class NotAnExchangeError(CassetteFormatError):
    """A file that records no HTTP exchange (a llama-stack tool-call recording); directories skip it."""


class CassetteMiss(CassetteError):
    """A request with no recording, raised in replay mode.

    Deliberately not an ``httpx.RequestError``: SDKs retry and wrap those, which would cost retries
    and hide this message. ``details`` carries the structured diagnosis (see `MissReport`).
    """

    def __init__(self, message: str, details: object = None) -> None:
        self.details = details
        super().__init__(message)


def hidden_in_a_miss(info: object) -> bool:
    """pytest's ``__tracebackhide__`` filter for the frames a miss is raised through: hidden when what
    passes through is a `CassetteMiss` (its message says all), shown for any other exception."""
    return isinstance(getattr(info, "value", None), CassetteMiss)


class CassetteSecretError(CassetteError):
    """A recording refused because it holds what looks like a credential; nothing was written.

    ``findings`` lists each value (masked) with its JSON path; see `httpx_cassette.core.scan.Finding`.
    """

    def __init__(self, message: str, findings: list[object]) -> None:
        self.findings = findings
        super().__init__(message)


class NetworkBlocked(CassetteError):
    """A request that no cassette served while the network is blocked (``--cassette-block-network``)."""


class CassetteExpired(CassetteMiss):
    """A recording older than the cassette's ``max_age``, refused in replay under ``strict_age``."""


class CassetteAgeWarning(UserWarning):
    """A recording older than the cassette's ``max_age`` was replayed: re-record it soon."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(message))  # it names the file, as `CassetteError` messages do
