"""The usage report: which cassette files a test run used. The pytest plugin writes it
(``--cassette-report PATH``); ``httpx-cassette prune --used-by PATH`` reads it. One Struct for both.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from httpx_cassette.errors import CassetteError
from httpx_cassette.storage.files import linked_part, write_atomic

__all__ = ["REPORT_VERSION", "UsageReport", "read_usage_report", "write_usage_report"]

REPORT_VERSION = 1


class UsageReport(msgspec.Struct, kw_only=True):
    """What a test run used. Paths are POSIX, relative to the report's own folder (or absolute)."""

    version: int = REPORT_VERSION
    # false when a worker crashed, the run was interrupted or a path had to be masked: prune refuses it
    complete: bool = True
    not_run: int = 0  # how many collected tests with a cassette did not run to their end (folders: kept)
    used: list[str]  # every cassette file some test played or recorded
    directories: list[str] = msgspec.field(default_factory=list)  # every cassette directory opened
    unused_directories: list[str] = msgspec.field(default_factory=list)  # what --cassette-prune deletes
    # the folders of tests that did not run to their end, or did not pass: never pruned on this report
    kept: list[str] = msgspec.field(default_factory=list)


def write_usage_report(path: Path, report: UsageReport) -> None:
    """Write ``report`` to ``path`` as indented JSON (creating its folder), the way cassette files are
    written (`write_atomic`). A path that is, or goes through, a symbolic link in the project is refused
    (`linked_part`): a link committed in a pull request (``usage.json -> ~/.bashrc``) could point anywhere.
    """
    link = linked_part(path)
    if link is not None:
        raise CassetteError(
            f"refusing to write the usage report {path}: {link} is a symbolic link (a link committed in a"
            " pull request could point anywhere); remove the link or pass another --cassette-report path"
        )
    data = msgspec.json.format(msgspec.json.encode(report), indent=2) + b"\n"
    write_atomic(path, data, what="usage report", then="run the tests again")


def read_usage_report(path: Path) -> UsageReport:
    """The report at ``path``; a `CassetteError` says what is wrong with it and what to do."""
    try:
        return msgspec.json.decode(path.read_bytes(), type=UsageReport)
    except FileNotFoundError:
        raise CassetteError(
            f"usage report {path} does not exist: run the test suite with the pytest plugin first"
        ) from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise CassetteError(
            f'usage report {path} is not a usage report ({exc}); expected {{"used": [<file paths>]}}'
        ) from None
