"""Every example in ``docs/`` runs, so the documentation cannot drift from the code.

How a page is run (one test per page, in a fresh temporary folder holding a copy of ``cassettes/``):

* ```` ```python ```` blocks run in order in one namespace per page; they prove what they show with
  ``assert``. The OpenAI SDK reads ``OPENAI_BASE_URL``: here it points at the project's local
  OpenAI-wire server (``tests/servers/openai_app.py``, with the canned `REPLIES` below),
  ``ANTHROPIC_BASE_URL`` at the Anthropic one, ``OLLAMA_HOST`` at the ollama one and
  ``GOOGLE_GEMINI_BASE_URL`` (read by google-genai) at the Gemini one, so an example
  that records talks to a server exactly as it would talk to the real API.
* A block with ``title="some/file"`` (any language) is written to that file instead of run: test
  modules, ``pyproject.toml`` snippets and YAML cassettes used by later commands.
* ```` ```console ```` blocks are transcripts: each ``$ command`` runs (``httpx-cassette`` in-process;
  ``pytest`` and ``python`` as subprocesses, ``VAR=value`` prefixes set their environment, ``*``
  patterns expand to the matching files as a shell would) and its
  output must match the lines under it. ``...`` alone on a line matches any number of lines, and
  inside a line any text.
* ```` ```bash ```` / ```` ```toml ```` / ```` ```json ```` blocks without a title are not run
  (installation commands and file excerpts).
* A page that documents a module another issue is still building, or a framework outside the test
  extra, says so in a first line ``<!-- requires: module -->`` and is skipped, naming the module,
  where it cannot be imported.

The site build itself (``mkdocs build --strict``) is tested too, and skipped when mkdocs is absent.
"""

from __future__ import annotations

import glob
import importlib.util
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from httpx_cassette.cli import main as cli_main
from httpx_cassette.cli.console import Console
from tests.servers import anthropic_app, gemini_app, ollama_app
from tests.servers.openai_app import OpenAIApp, create_app
from tests.servers.runner import LiveServer

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = sorted(p for p in DOCS.rglob("*.md"))

# What the stand-in for the real API answers to the questions the docs ask.
REPLIES = {
    "What is the capital of France?": "The capital of France is Paris.",
    "Say hi": "Hi!",
    "Name a primary colour": "Red.",
}

_FENCE = re.compile(
    r"^(?P<fence>```+)(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^(?P=fence)[ \t]*$", re.M | re.S
)
_TITLE = re.compile(r'title="([^"]+)"')


@dataclass(frozen=True)
class Block:
    lang: str
    title: str | None
    body: str
    line: int


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for match in _FENCE.finditer(text):
        title = _TITLE.search(match.group("attrs"))
        line = text.count("\n", 0, match.start()) + 2
        found.append(Block(match.group("lang"), title.group(1) if title else None, match.group("body"), line))
    return found


def _pattern(expected: str) -> re.Pattern[str]:
    parts = []
    for line in expected.rstrip("\n").split("\n"):
        if line.strip() == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(re.escape(piece) for piece in line.rstrip().split("...")) + r"[ \t]*\n")
    return re.compile("".join(parts))


def _normalized(output: str) -> str:
    return "\n".join(line.rstrip() for line in output.rstrip("\n").split("\n")) + "\n"


def _glob(word: str) -> list[str]:
    """What a shell makes of one word: a pattern becomes the files it matches (sorted)."""
    if any(c in word for c in "*?[") and not word.startswith("-"):
        return sorted(glob.glob(word)) or [word]
    return [word]


def run_command(command: str, env: dict[str, str]) -> str:
    words = shlex.split(command)
    extra = {}
    while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
        name, _, value = words.pop(0).partition("=")
        extra[name] = value
    program, args = words[0], [expanded for word in words[1:] for expanded in _glob(word)]
    if program == "httpx-cassette" and not extra:
        buffer = io.StringIO()
        cli_main(args, Console(buffer, buffer, fancy=False))
        return buffer.getvalue()
    if program == "pytest":
        argv = [sys.executable, "-m", "pytest", *args]
        # This project's own test plugins are not the reader's: skip their start-up time.
        extra.setdefault(
            "PYTEST_ADDOPTS",
            "-p no:cacheprovider -p no:randomly -p no:hypothesispytest -p no:xdist -p no:cassetter",
        )
    elif program == "python":
        argv = [sys.executable, *args]
    elif program == "httpx-cassette":
        argv = [sys.executable, "-m", "httpx_cassette", *args]
    else:
        raise AssertionError(f"docs may only run httpx-cassette, pytest and python commands, not {program!r}")
    result = subprocess.run(argv, env={**env, **extra}, capture_output=True, text=True, timeout=120)
    # pytest reports on stdout; its stderr holds only warnings about the reader's own plugins' setup.
    return result.stdout if program == "pytest" else result.stdout + result.stderr


def check_console(block: Block, page: Path, env: dict[str, str]) -> None:
    commands = re.split(r"^\$ ", block.body, flags=re.M)
    assert not commands[0].strip(), f"{page}:{block.line}: a console block starts with `$ command`"
    for chunk in commands[1:]:
        command, _, expected = chunk.partition("\n")
        output = _normalized(run_command(command, env))
        if not _pattern(expected).fullmatch(output):
            pytest.fail(
                f"{page.relative_to(ROOT)}:{block.line}: `{command}` printed:\n{output}"
                f"\nexpected:\n{expected}"
            )


@pytest.fixture(scope="module")
def api() -> Iterator[LiveServer[OpenAIApp]]:
    with LiveServer(create_app(replies=REPLIES)) as server:
        yield server


@pytest.fixture(scope="module")
def anthropic_api() -> Iterator[LiveServer[anthropic_app.AnthropicApp]]:
    with LiveServer(anthropic_app.create_app()) as server:
        yield server


@pytest.fixture(scope="module")
def ollama_api() -> Iterator[LiveServer[ollama_app.OllamaApp]]:
    with LiveServer(ollama_app.create_app()) as server:
        yield server


@pytest.fixture(scope="module")
def gemini_api() -> Iterator[LiveServer[gemini_app.GeminiApp]]:
    with LiveServer(gemini_app.create_app()) as server:
        yield server


@pytest.fixture
def page_env(
    tmp_path: Path,
    api: LiveServer[OpenAIApp],
    anthropic_api: LiveServer[anthropic_app.AnthropicApp],
    ollama_api: LiveServer[ollama_app.OllamaApp],
    gemini_api: LiveServer[gemini_app.GeminiApp],
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, str]:
    shutil.copytree(ROOT / "cassettes", tmp_path / "cassettes")
    monkeypatch.chdir(tmp_path)
    prefixes = ("OPENAI_", "ANTHROPIC_", "HTTPX_CASSETTE_", "GEMINI_", "GOOGLE_")
    for name in [n for n in os.environ if n.startswith(prefixes)]:
        monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)  # pages show a developer's machine; `CI=true pytest` shows CI
    monkeypatch.setenv("OPENAI_BASE_URL", api.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "test-key-for-the-local-server")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", anthropic_api.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key-for-the-local-server")
    monkeypatch.setenv("OLLAMA_HOST", ollama_api.url)  # ollama's client reads it too
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini_api.url)  # google-genai reads these two
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-for-the-local-server")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return dict(os.environ)


_REQUIRES = re.compile(r"<!-- requires: ([\w.]+) -->")


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a dotted name whose parent package is missing
        return False


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(DOCS).as_posix() for p in PAGES])
def test_page_examples_run(page: Path, page_env: dict[str, str]) -> None:
    for module in _REQUIRES.findall(page.read_text(encoding="utf-8")):
        if not _importable(module):
            pytest.skip(f"{page.relative_to(DOCS)} needs {module}, which is not importable here")
    saved = dict(os.environ)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    try:
        for block in blocks(page):
            if block.title is not None:
                target = Path(block.title)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(block.body, encoding="utf-8")
            elif block.lang in ("python", "py"):
                exec(compile(block.body, f"{page}:{block.line}", "exec"), namespace)
            elif block.lang == "console":
                check_console(block, page, {**page_env, **os.environ})
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_every_page_is_in_the_navigation() -> None:
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [p.relative_to(DOCS).as_posix() for p in PAGES if p.relative_to(DOCS).as_posix() not in nav]
    assert not missing, f"pages missing from mkdocs.yml's nav: {missing}"


def test_console_patterns() -> None:
    assert _pattern("a ... c\n...\nz\n").fullmatch("a b c\nx\ny\nz\n")
    assert not _pattern("a\nz\n").fullmatch("a\nb\nz\n")


@pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed (the docs extra)"
)
def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "site" / "reference" / "api" / "index.html").is_file()
