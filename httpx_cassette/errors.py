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
]


class CassetteError(Exception):
    """Base class of every error httpx_cassette raises."""


class CassetteFormatError(CassetteError):
    """A cassette file that cannot be read: names the file and what is wrong with it."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"broken cassette file {path}: {problem}")


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
