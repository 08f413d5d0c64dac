"""The public API is short, sorted and stable: adding a name is a decision, renaming one is a break."""

from __future__ import annotations

import inspect
import subprocess
import sys
import typing
from collections.abc import Callable, Iterator

import typing_extensions

import httpx_cassette

PUBLIC = [
    "Cassette",
    "CassetteAgeWarning",
    "CassetteConfig",
    "CassetteError",
    "CassetteExpired",
    "CassetteFormatError",
    "CassetteMiss",
    "CassetteSecretError",
    "CassetteSession",
    "CassetteTransport",
    "IgnoreRule",
    "KeyOptions",
    "MatchConfig",
    "Meta",
    "Mode",
    "NetworkBlocked",
    "Play",
    "Record",
    "RedactConfig",
    "ReplayConfig",
    "Request",
    "Response",
    "StorageConfig",
    "VcrConfigWarning",
    "__version__",
    "canonical_form",
    "key_of",
    "use_cassette",
]

# Methods whose request and response are "whichever library's": an httpx or an httpx2 object, which no
# annotation can name without importing both. They implement httpx's transport interface and the route
# protocol the client hooks call; users hand requests to `key`, `canonical` and `plan` instead.
LIBRARY_AGNOSTIC = {"handle_request", "handle_async_request", "send", "send_async", "serve", "serve_async"}


def test_all_is_pinned_and_sorted() -> None:
    assert httpx_cassette.__all__ == PUBLIC
    assert sorted(httpx_cassette.__all__) == httpx_cassette.__all__


def test_every_exported_name_exists_and_is_documented() -> None:
    for name in PUBLIC:
        member = getattr(httpx_cassette, name)
        if name not in ("Mode", "__version__"):
            assert member.__doc__, f"{name} has no docstring"


def test_errors_share_one_base() -> None:
    for name in ("CassetteFormatError", "CassetteMiss", "CassetteSecretError", "CassetteExpired"):
        assert issubclass(getattr(httpx_cassette, name), httpx_cassette.CassetteError)


def test_warnings_are_importable_from_the_package() -> None:
    # What `filterwarnings = error::httpx_cassette.VcrConfigWarning` resolves; the plugin's class itself.
    from httpx_cassette.pytest_plugin.vcr_config import VcrConfigWarning

    assert httpx_cassette.VcrConfigWarning is VcrConfigWarning
    assert issubclass(httpx_cassette.CassetteAgeWarning, UserWarning)
    assert issubclass(VcrConfigWarning, Warning)
    code = "import sys, httpx_cassette; httpx_cassette.IgnoreRule; print('pytest' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"  # only asking for VcrConfigWarning imports pytest


def test_import_pulls_in_no_sdk_and_no_httpx2() -> None:
    # Measured against what `import httpx` loads by itself (it pulls in rich when rich is installed).
    code = (
        "import sys, httpx; before = set(sys.modules); import httpx_cassette; "
        "print(sorted(m for m in ('httpx2', 'openai', 'anthropic', 'pytest', 'yaml', 'rich')"
        " if m in sys.modules and m not in before))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _mentions_any(hint: object) -> bool:
    return hint is typing.Any or any(_mentions_any(arg) for arg in typing.get_args(hint))


def _public_callables() -> Iterator[tuple[str, Callable[..., object]]]:
    """Every exported function, and each exported class's constructor and public methods."""
    for name in PUBLIC:
        member = getattr(httpx_cassette, name)
        if inspect.isfunction(member):
            yield name, member
        elif inspect.isclass(member):
            yield f"{name}()", member
            for attr, value in vars(member).items():
                private = attr.startswith("_") and attr not in ("__init__", "__call__")
                if private or attr in LIBRARY_AGNOSTIC:
                    continue
                function = value.__func__ if isinstance(value, classmethod | staticmethod) else value
                if inspect.isfunction(function):
                    yield f"{name}.{attr}", function


def test_no_public_signature_mentions_any() -> None:
    found = []
    checked = 0
    for where, target in _public_callables():
        hints = typing.get_type_hints(target, localns={"Unpack": typing_extensions.Unpack})
        checked += 1
        found += [f"{where}: {param} is {hint}" for param, hint in hints.items() if _mentions_any(hint)]
    assert checked > 40  # the walk reached the methods, not just the names
    assert found == []


def test_signatures_name_only_public_types() -> None:
    # `Cassette`'s methods take what users have: stored models and `Record` plans are exported too.
    hints = typing.get_type_hints(httpx_cassette.Cassette.save)
    assert hints["plan"] is httpx_cassette.Record
    assert hints["response"] is httpx_cassette.Response
    assert hints["meta"] == httpx_cassette.Meta | None
    assert httpx_cassette.Request in typing.get_args(typing.get_type_hints(httpx_cassette.key_of)["request"])
