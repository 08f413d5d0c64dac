"""Reading a vcrpy YAML cassette as hostile input: PyYAML's safe loader only (it never runs code), with
limits on the file's size, its nodes, its nesting and what its aliases repeat (a "billion laughs" is
refused), through the path guard (no link, FIFO or oversized file is read). Errors name the file."""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

from httpx_cassette.errors import CassetteError, CassetteFormatError
from httpx_cassette.storage.files import open_inside

__all__ = ["MAX_YAML_BYTES", "BrokenVcrCassette", "one_line", "yaml_load"]


# PyYAML's safe loader is pure Python: ~100 times slower than the JSON reader and ~500 bytes a node,
# so a YAML file gets a lower cap than `MAX_FILE_BYTES` and a cap on its nodes (~25 s, ~1 GB at most).
MAX_YAML_BYTES = 64 * 1024 * 1024
_MAX_NODES = 1_000_000
_MAX_DEPTH = 100  # a vcrpy cassette nests ~6 levels; deeper is hostile (and PyYAML composes recursively)
_MAX_ALIASED = 64 * 1024 * 1024  # nodes plus characters that aliases (*name) may repeat in all


class BrokenVcrCassette(CassetteFormatError):
    """A vcrpy cassette that cannot be converted, said in its own words; the CLI exits 1 for it, as for
    any broken file."""

    def __init__(self, file: Path, message: str) -> None:
        CassetteError.__init__(self, message)
        self.path, self.problem = str(file), message


@functools.cache
def _yaml() -> Any:
    try:
        return importlib.import_module("yaml")
    except ImportError:
        raise CassetteError(
            "converting vcrpy cassettes needs PyYAML: pip install 'httpx-cassette[vcr]'"
        ) from None


@functools.cache
def _loader() -> Any:
    """PyYAML's `SafeLoader`, composing at most `_MAX_NODES` nodes `_MAX_DEPTH` deep, whose aliases
    repeat at most `_MAX_ALIASED` nodes and characters (a recursive alias is refused). Built on first
    use: PyYAML is imported only to convert."""
    yaml = _yaml()
    refused = yaml.composer.ComposerError

    class BoundedLoader(yaml.SafeLoader):  # type: ignore[misc,name-defined]
        def __init__(self, stream: bytes) -> None:
            super().__init__(stream)
            self.nodes = self.depth = self.aliased = 0

        def compose_node(self, parent: Any, index: Any) -> Any:
            event = self.peek_event()
            if isinstance(event, yaml.AliasEvent):
                node = super().compose_node(parent, index)  # the anchored node itself: not copied here...
                size = getattr(node, "expanded_size", None)
                if size is None:  # its anchor is still being composed: `&a [*a]` nests forever
                    raise refused(None, None, f"found a recursive alias *{event.anchor}", event.start_mark)
                self.aliased += size  # ...but whoever walks the result walks it once per alias
                if self.aliased > _MAX_ALIASED:
                    problem = f"its aliases (*{event.anchor}...) repeat over {_MAX_ALIASED:,} nodes and chars"
                    raise refused(None, None, problem, event.start_mark)
                return node
            self.nodes += 1
            if self.nodes > _MAX_NODES:
                raise refused(None, None, f"it has over {_MAX_NODES:,} YAML nodes", event.start_mark)
            if self.depth >= _MAX_DEPTH:
                raise refused(None, None, f"it nests deeper than {_MAX_DEPTH} levels", event.start_mark)
            self.depth += 1
            try:
                node = super().compose_node(parent, index)
            finally:
                self.depth -= 1
            node.expanded_size = _expanded_size(node, yaml)
            return node

    return BoundedLoader


def _expanded_size(node: Any, yaml: Any) -> int:
    """Nodes plus scalar characters ``node`` stands for, aliases counted in full (its children's sizes
    are known: they were composed first)."""
    size: int
    if isinstance(node, yaml.ScalarNode):
        size = 1 + len(node.value)
    elif isinstance(node, yaml.MappingNode):
        size = 1 + sum(k.expanded_size + v.expanded_size for k, v in node.value)
    else:
        size = 1 + sum(child.expanded_size for child in node.value)
    return size


def one_line(text: str, most: int = 500) -> str:
    line = " ".join(text.split())
    return line if len(line) <= most else line[: most - 3] + "..."


def _yaml_problem(exc: Any) -> str:
    """A PyYAML error in one line: what, and where (its own text quotes the YAML over several lines)."""
    problem, mark = getattr(exc, "problem", None), getattr(exc, "problem_mark", None)
    if not isinstance(problem, str) or mark is None:
        return one_line(str(exc))
    context = getattr(exc, "context", None)
    said = f"{context}: {problem}" if isinstance(context, str) else problem
    return one_line(f"{said} (line {mark.line + 1}, column {mark.column + 1})")


def yaml_load(file: Path) -> Any:
    """The YAML of ``file``, read through the path guard (`open_inside`: no link, FIFO, or oversize)."""
    yaml = _yaml()
    try:
        data = open_inside(file.parent, file.name, MAX_YAML_BYTES)
    except FileNotFoundError:
        raise CassetteError(f"cannot read vcrpy cassette {file}: it does not exist (any more)") from None
    loader = _loader()(data)
    try:
        return loader.get_single_data()
    except yaml.YAMLError as exc:
        raise BrokenVcrCassette(file, f"cannot read vcrpy cassette {file}: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise BrokenVcrCassette(
            file, f"cannot read vcrpy cassette {file}: it is nested too deeply to read"
        ) from None
    finally:
        loader.dispose()
