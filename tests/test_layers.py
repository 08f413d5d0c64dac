"""The import contract of issue 11, checked on the source with `ast` (no import runs).

Every import counts: at module level, inside functions, under ``if TYPE_CHECKING:``, and
``importlib.import_module("httpx_cassette....")`` with a literal name. A string constant that is exactly
a module's name (the format registry in ``storage/formats.py``) is a lazy import "by string": it is
allowed only there, and is the one kind of edge left out of the cycle check.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx_cassette

PACKAGE = Path(httpx_cassette.__file__).parent
ROOT = "httpx_cassette"
# Top to bottom: a module imports its own package and the packages above it only.
LAYERS = (
    ("errors", "_version"),
    ("model",),
    ("config",),  # below model: its hooks and matchers are typed over model's Request and Response
    ("core",),
    ("storage",),
    ("formats",),
    ("http",),
    ("intercept",),
    ("pytest_plugin",),
    ("cli",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
PUBLIC = {ROOT, f"{ROOT}.__main__"}  # the public API and `python -m`: may import anything
HTTP_LIBRARIES = {"httpx", "httpx2", "aiohttp", "requests"}
FORMATS_USERS = (f"{ROOT}.storage.formats", f"{ROOT}.formats", f"{ROOT}.cli")
MAX_LINES = 400


@dataclass(frozen=True)
class Edge:
    source: str  # module importing
    target: str  # module (or third-party top-level name) imported
    line: int
    how: str  # "import", "importlib" or "string"

    def __str__(self) -> str:
        return f"{_file(self.source)}:{self.line} imports {self.target} ({self.how})"


def _file(module: str) -> str:
    parts = module.split(".")[1:]
    path = PACKAGE.joinpath(*parts)
    found = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    return found.relative_to(PACKAGE.parent).as_posix()


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for file in sorted(PACKAGE.rglob("*.py")):
        parts = list(file.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = file
    return found


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    is_package = MODULES[module].name == "__init__.py"
    base = module.split(".")[: len(module.split(".")) - node.level + is_package]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imported(module: str, node: ast.AST) -> Iterator[tuple[str, str]]:
    """(target, how) for each name ``node`` imports."""
    if isinstance(node, ast.Import):
        for alias in node.names:
            yield alias.name, "import"
    elif isinstance(node, ast.ImportFrom):
        base = _resolve(module, node)
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            yield (sub if sub in MODULES else base), "import"
    elif isinstance(node, ast.Call) and _is_import_module(node.func) and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield first.value, "importlib"
    elif isinstance(node, ast.Constant) and node.value in MODULES and node.value not in (ROOT, module):
        yield str(node.value), "string"


def _is_import_module(func: ast.expr) -> bool:
    return (isinstance(func, ast.Attribute) and func.attr == "import_module") or (
        isinstance(func, ast.Name) and func.id == "import_module"
    )


def _edges() -> list[Edge]:
    edges: list[Edge] = []
    for module, file in MODULES.items():
        tree = ast.parse(file.read_text(encoding="utf-8"), str(file))
        named = {  # a literal argument of import_module is that import, not a second one by string
            id(node.args[0])
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and node.args and _is_import_module(node.func)
        }
        for node in ast.walk(tree):
            if id(node) in named:
                continue
            for target, how in _imported(module, node):
                edges.append(Edge(module, target, getattr(node, "lineno", 0), how))
    return list(dict.fromkeys(edges))  # `from x import a, b` is one import of x


EDGES = _edges()
INTERNAL = [e for e in EDGES if e.target == ROOT or e.target.startswith(f"{ROOT}.")]


def _package(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def _rank(module: str) -> int:
    """A module's layer; the root package (the public API) is below everything."""
    return len(LAYERS) if module == ROOT else RANK[_package(module)]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _node(module: str, packages: bool) -> str:
    return _package(module) if packages else module


def _graph(edges: list[Edge], *, packages: bool) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for edge in edges:
        source, target = _node(edge.source, packages), _node(edge.target, packages)
        if source != target:
            graph.setdefault(source, set()).add(target)
    return graph


def _cycles_report(edges: list[Edge], *, packages: bool) -> list[str]:
    """Each cycle of the graph, with the imports that make it up."""
    report = []
    for cycle in _cycles(_graph(edges, packages=packages)):
        inside = [
            str(e)
            for e in edges
            if _node(e.source, packages) in cycle
            and _node(e.target, packages) in cycle
            and _node(e.source, packages) != _node(e.target, packages)
        ]
        report.append(" <-> ".join(cycle) + "\n  " + "\n  ".join(inside))
    return report


# What the cycle checks count: every import but the registry's lazy one by name.
EAGER = [e for e in INTERNAL if e.how != "string" and e.target in MODULES]


def test_the_graph_sees_every_kind_of_import() -> None:
    # Guards the checks below against silently reading nothing.
    hows = {e.how for e in INTERNAL}
    assert hows == {"import", "string"} or hows == {"import", "string", "importlib"}
    assert any(e.source == f"{ROOT}.storage.formats" and e.how == "string" for e in INTERNAL)
    assert len(MODULES) > 50


def test_every_internal_import_names_a_module_that_exists() -> None:
    missing = [str(e) for e in INTERNAL if e.target not in MODULES]
    assert missing == [], "imports of modules that do not exist:\n" + "\n".join(missing)


def test_layers_import_only_upwards() -> None:
    wrong = [
        f"{e} -- {_package(e.target)} is below {_package(e.source)}; "
        "pass what is needed in as a parameter, a protocol or a callback instead"
        for e in INTERNAL
        if e.how != "string" and e.source not in PUBLIC and _rank(e.target) > _rank(e.source)
    ]
    assert wrong == [], (
        "layering violations (order: " + " > ".join("/".join(n) for n in LAYERS) + "):\n" + ("\n".join(wrong))
    )


def test_only_the_registry_and_the_cli_reach_formats() -> None:
    formats = f"{ROOT}.formats"
    wrong = [
        f"{e} -- go through httpx_cassette.storage.formats (format_named) instead"
        for e in INTERNAL
        if (e.target == formats or e.target.startswith(f"{formats}."))
        and not e.source.startswith(FORMATS_USERS)
    ]
    strings = [str(e) for e in INTERNAL if e.how == "string" and e.source != f"{ROOT}.storage.formats"]
    assert wrong == [], "httpx_cassette.formats imported outside its registry and the CLI:\n" + (
        "\n".join(wrong)
    )
    assert strings == [], "module names as strings outside the format registry:\n" + "\n".join(strings)


def test_only_the_http_package_imports_http_libraries() -> None:
    wrong = [
        f"{e} -- only httpx_cassette.http may import an HTTP library; take the object as a parameter"
        for e in EDGES
        if e.target.split(".")[0] in HTTP_LIBRARIES and not e.source.startswith(f"{ROOT}.http.")
    ]
    assert wrong == [], "HTTP libraries imported outside httpx_cassette.http:\n" + "\n".join(wrong)


def test_no_import_cycles_between_modules() -> None:
    cycles = _cycles_report(EAGER, packages=False)
    assert cycles == [], "import cycles between modules:\n" + "\n".join(cycles)


def test_no_import_cycles_between_packages() -> None:
    below_the_api = [e for e in EAGER if e.source not in PUBLIC]  # the public API imports every layer
    cycles = _cycles_report(below_the_api, packages=True)
    assert cycles == [], "import cycles between packages:\n" + "\n".join(cycles)


def test_no_module_is_over_the_size_limit() -> None:
    long = {
        file.relative_to(PACKAGE.parent).as_posix(): count
        for file in MODULES.values()
        if (count := len(file.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines (split them by what they do): {long}"
