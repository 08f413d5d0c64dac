"""Terminal output for the CLI: tables and progress, drawn by rich when it is installed and the output
is a terminal (the ``cli`` extra), and as plain aligned text otherwise (pipes, CI logs, tests).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Literal, TextIO

from httpx_cassette.core.shown import printable
from httpx_cassette.errors import one_line

__all__ = ["PROGRESS_FROM", "Console", "one_line", "visible"]

PROGRESS_FROM = 200  # files: smaller directories are checked too fast for a progress bar to help


def visible(text: str) -> str:
    """``text`` as a terminal may get it from a cassette (`httpx_cassette.core.shown.printable`)."""
    return printable(text)


class Console:
    """Where the CLI writes: ``out`` for results, ``err`` for problems and progress."""

    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        fancy: bool | None = None,
        width: int | None = None,
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        # fancy=None: rich wherever it is installed and the stream is a terminal; True/False force it.
        has_rich = importlib.util.find_spec("rich") is not None if fancy is None else fancy
        self.fancy = has_rich and (fancy is not None or self.out.isatty())
        self.fancy_err = has_rich and (fancy is not None or self.err.isatty())
        self.width = width  # rich's table width; None: the terminal's

    def print(self, text: str = "") -> None:
        print(visible(text), file=self.out)

    def error(self, text: str) -> None:
        print(visible(text), file=self.err)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int] = ()) -> None:
        """Rows of cells under ``headers``; columns numbered in ``right`` are right-aligned."""
        rows = [[one_line(cell) for cell in row] for row in rows]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
        # rich drops or truncates columns that do not fit; plain lines wrap in the terminal and lose nothing.
        if self.fancy and sum(widths) + 3 * len(widths) <= (self.width or shutil.get_terminal_size().columns):
            self._rich_table(headers, rows, right)
            return
        for cells in [list(headers), *rows]:
            padded = [
                c.rjust(w) if i in right else c.ljust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            ]
            self.print("  ".join(padded).rstrip())

    def _rich_table(
        self, headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[int]
    ) -> None:
        from rich import box
        from rich.console import Console as RichConsole
        from rich.table import Table
        from rich.text import Text

        table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for i, header in enumerate(headers):
            justify: Literal["left", "right"] = "right" if i in right else "left"
            table.add_column(header, justify=justify, no_wrap=True)
        for row in rows:
            table.add_row(*(Text(cell) for cell in row))  # a file's text is no rich markup: "[/x]" is text
        RichConsole(file=self.out, highlight=False, width=self.width).print(table)

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[], None]]:
        """A progress bar on ``err`` for ``total`` steps (only when it is a terminal and the job is
        large); yields the function that advances it by one."""
        if total < PROGRESS_FROM or not self.err.isatty():
            yield lambda: None
            return
        if self.fancy_err:
            from rich.console import Console as RichConsole
            from rich.progress import Progress

            with Progress(console=RichConsole(file=self.err), transient=True) as bar:
                task = bar.add_task(label, total=total)
                yield lambda: bar.advance(task)
            return
        done = 0
        step = max(1, total // 100)

        def advance() -> None:
            nonlocal done
            done += 1
            if done % step == 0 or done == total:
                self.err.write(f"\r{label} {done}/{total} ({done * 100 // total}%)")
                self.err.flush()

        try:
            yield advance
        finally:
            self.err.write("\r\033[K")  # clear the progress line before the results
            self.err.flush()
