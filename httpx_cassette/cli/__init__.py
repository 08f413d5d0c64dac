"""The ``httpx-cassette`` command (also ``python -m httpx_cassette``): look inside cassettes, check,
compare, clean and convert them.

    httpx-cassette ls cassettes/ --sort size
    httpx-cassette show cassettes/chat/post-chat-completions-1f2e3d4c5b6a.json
    httpx-cassette verify cassettes/
    httpx-cassette diff old/ cassettes/chat/
    httpx-cassette prune cassettes/ --used-by .cassette-usage.json --dry-run
    httpx-cassette convert tests/cassettes/ tests/cassettes/ --from vcr

Exit status: 0 when all is well, 1 when a check found something (``verify``, ``scan``, ``diff``),
2 for a usage error or a path that cannot be read. Plain argparse, no dependency; with rich
installed (``pip install 'httpx-cassette[cli]'``) tables and progress bars are drawn by it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from httpx_cassette._version import __version__
from httpx_cassette.cli.checks import cmd_diff, cmd_scan, cmd_verify
from httpx_cassette.cli.console import Console
from httpx_cassette.cli.maintain import FORMATS, cmd_convert, cmd_prune
from httpx_cassette.cli.show import SORT_KEYS, age_arg, cmd_ls, cmd_show
from httpx_cassette.errors import CassetteError, CassetteFormatError

__all__ = ["build_parser", "main"]

PLAIN = "plain text output even when rich is installed"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="httpx-cassette",
        description="Look inside, check, compare, clean and convert httpx_cassette cassettes.",
    )
    parser.add_argument("--version", action="version", version=f"httpx-cassette {__version__}")
    parser.add_argument("--plain", action="store_true", help=PLAIN)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ls = commands.add_parser("ls", help="one row per interaction: file, method, path, status, events, size")
    ls.add_argument("path", help="a cassette directory (searched recursively) or file")
    ls.add_argument(
        "--sort", choices=list(SORT_KEYS), default="file", help="the column to sort by (default: file)"
    )
    ls.add_argument("--reverse", action="store_true", help="sort in descending order")
    ls.add_argument("--json", action="store_true", help="print the rows as a JSON list, for scripts")
    ls.add_argument(
        "--older-than",
        type=age_arg,
        metavar="AGE",
        help="only recordings older than AGE (90d, 12h, 30m), by meta.recorded_at; undated ones are left out",
    )
    ls.set_defaults(run=cmd_ls)

    show = commands.add_parser("show", help="a request and its responses; streams as transcript and timing")
    show.add_argument("file", help="one cassette file")
    show.add_argument("--events", action="store_true", help="also list every stored event")
    show.set_defaults(run=cmd_show)

    verify = commands.add_parser(
        "verify", help="check that every file parses and every stream replays exactly"
    )
    verify.add_argument("path", help="a cassette directory (searched recursively) or file")
    verify.set_defaults(run=cmd_verify)

    scan = commands.add_parser("scan", help="look for credentials in recorded cassettes")
    scan.add_argument("path", help="a cassette directory (searched recursively) or file")
    _allow_options(scan)
    scan.set_defaults(run=cmd_scan)

    diff = commands.add_parser("diff", help="what changed between two cassettes (review a re-recording)")
    diff.add_argument("old", help="the old cassette directory or file")
    diff.add_argument("new", help="the new cassette directory or file")
    diff.add_argument("--all", action="store_true", help="also compare timing and meta (recorded_at...)")
    diff.add_argument("--full", action="store_true", help="list every change (default: 20 per file)")
    diff.set_defaults(run=cmd_diff)

    prune = commands.add_parser("prune", help="delete the interactions no test used")
    prune.add_argument("path", help="the cassette directory to prune")
    prune.add_argument(
        "--used-by", required=True, metavar="REPORT", help="the usage report the pytest plugin wrote"
    )
    prune.add_argument("--dry-run", action="store_true", help="only list what would be deleted")
    prune.set_defaults(run=cmd_prune)

    convert = commands.add_parser(
        "convert", help="convert vcrpy or llama-stack recordings to cassettes (and back)"
    )
    convert.add_argument("source", help="the directory (or vcrpy YAML file) to convert")
    convert.add_argument("destination", help="the directory to write")
    convert.add_argument(
        "--from", dest="from_", choices=FORMATS, help="the source format (ours when --to is llama-stack)"
    )
    convert.add_argument("--to", choices=("ours", "llama-stack"), default="ours", help="the format to write")
    convert.add_argument(
        "--force",
        action="store_true",
        help="overwrite a cassette file that holds a different recording of the same request (to ours)",
    )
    _allow_options(convert)
    convert.set_defaults(run=cmd_convert)
    for command in commands.choices.values():  # `--plain` after the command too: `ls --plain cassettes`
        command.add_argument("--plain", action="store_true", default=argparse.SUPPRESS, help=PLAIN)
    return parser


def main(argv: Sequence[str] | None = None, console: Console | None = None) -> int:
    """Run the CLI with ``argv`` (default: the process arguments); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    console = console or Console(fancy=False if args.plain else None)
    try:
        status: int = args.run(args, console)
    except CassetteFormatError as exc:  # a broken file, like the problems verify reports: status 1
        console.error(f"httpx-cassette {args.command}: {exc}")
        return 1
    except CassetteError as exc:
        console.error(f"httpx-cassette {args.command}: {exc}")
        return 2
    except BrokenPipeError:  # `httpx-cassette ls big/ | head`
        return 0
    return status


def _allow_options(command: argparse.ArgumentParser) -> None:
    """``--allow`` and ``--allow-pattern``: what the secret check of ``scan`` and ``convert`` lets pass."""
    for flag, metavar, what in (
        ("--allow", "VALUE", "a value that is"),
        ("--allow-pattern", "REGEX", "values matching it are"),
    ):
        command.add_argument(flag, action="append", default=[], metavar=metavar, help=f"{what} no secret")
