"""The public API is short, sorted and stable: adding a name is a decision, renaming one is a break."""

from __future__ import annotations

import subprocess
import sys

import httpx_cassette

PUBLIC = [
    "Cassette",
    "CassetteError",
    "CassetteFormatError",
    "CassetteMiss",
    "CassetteSecretError",
    "CassetteTransport",
    "KeyOptions",
    "Mode",
    "__version__",
    "canonical_form",
    "key_of",
    "use_cassette",
]


def test_all_is_pinned_and_sorted() -> None:
    assert httpx_cassette.__all__ == PUBLIC
    assert sorted(httpx_cassette.__all__) == httpx_cassette.__all__


def test_every_exported_name_exists_and_is_documented() -> None:
    for name in PUBLIC:
        member = getattr(httpx_cassette, name)
        if name not in ("Mode", "__version__"):
            assert member.__doc__, f"{name} has no docstring"


def test_errors_share_one_base() -> None:
    for name in ("CassetteFormatError", "CassetteMiss", "CassetteSecretError"):
        assert issubclass(getattr(httpx_cassette, name), httpx_cassette.CassetteError)


def test_import_pulls_in_no_sdk_and_no_httpx2() -> None:
    # Measured against what `import httpx` loads by itself (it pulls in rich when rich is installed).
    code = (
        "import sys, httpx; before = set(sys.modules); import httpx_cassette; "
        "print(sorted(m for m in ('httpx2', 'openai', 'anthropic', 'pytest', 'yaml', 'rich')"
        " if m in sys.modules and m not in before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
