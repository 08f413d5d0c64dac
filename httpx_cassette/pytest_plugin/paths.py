"""Where the pytest plugin keeps cassettes: a folder per test module, and in it one per test (the
layout is described in `httpx_cassette.pytest_plugin`).

A test id is part of a folder name, and folder names reach git: a credential in an id (a
``parametrize`` value read from the environment) is replaced by ``secret-<8 hex of it>`` (`hidden`),
so the same id names the same folder every run and the rest of the id stays readable. The hex is of its
slow hash (`hashed`: confirming a guessed password costs a full scrypt); a folder named before, from
its bare sha256, is still used while no folder has the new name (`Layout.test_folder`). What counts is
what the scanner counts in text, plus a value set to a secret name (``password: ...``, a header line
``Authorization: Token ...``) and the secret half of a ``user:secret`` pair (`_set_spans`).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from httpx_cassette.core.findings import LINE_SETTING
from httpx_cassette.core.scan import SecretScanner
from httpx_cassette.core.secrets import (
    hashed,
    high_entropy,
    known_format,
    legacy_hashed,
    random_token,
    secret_value,
    token_like,
)
from httpx_cassette.storage.scan import masked_name

__all__ = ["Layout", "folder_name", "hidden", "recording_name", "safe_id", "shortened", "shown_path"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_ID = 40
_FORBIDDEN = "<>?%*:|\"'/\\"  # what pytest-recording replaces by "-" in a cassette name
_NAME_MAX = 255  # a file name's limit: pytest-recording shortens longer names
_YAML = ".yaml"
_HIDDEN = "secret-"
_PART = re.compile(r"[^-]+")
_SCANNER = SecretScanner()
_MARK = re.compile(r"secret-[0-9a-f]{8}")  # what `hidden` writes for a credential
_MARKED = "<HIDDEN_SECRET>"  # a mark, as the rules read it: a placeholder (no secret), just as long
# A name set to a value: ``password=...``, ``api_key: ...``, a header line (``Authorization: Token ...``),
# ``bob:...``. The name starts a word of the id (a parameter may end with a secret name: ``sync-password``);
# the value is the rest of the line, its first word (up to a space) judged apart.
_SET = re.compile(r"""(?:^|(?<=[\s\[(,;"'&]))["']?([A-Za-z_][\w.+-]{0,63})["']?[ \t]*([:=])[ \t]*""")
_WORD = re.compile(r"""[^\s"',;)\]}]+""")
_SCHEME = re.compile(r"[A-Za-z][\w-]{0,31}[ \t]+")  # an Authorization header's: Basic, Bearer, Token
# ``pass@host``, the rest of a ``user:pass@host`` with no scheme (a host name, maybe a port and a path).
_USERINFO = re.compile(r"([^\s@/]+)@(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::\d{1,5})?(?:[/?#]\S*)?")
_PLAIN = re.compile(r"[a-z._+-]+")  # an e-mail address's local part (``email:bob@example.com``)
_ID = re.compile(r"[a-z]{2,12}[-_][A-Za-z0-9]+")  # file-..., resp_..., msg_01...: what an API names
_HEX = re.compile(r"[0-9a-fA-F]+")
_ALNUM = re.compile(r"[A-Za-z0-9]+")
_SWITCH = re.compile(r"(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_NAMED = re.compile(r"[/.:]")  # a path, a version, a model's reference: mixed case there is a name's
# A short word, a name in capitals (an environment variable's: ``OPENAI_API_KEY``), a number: a label.
_PLAIN_VALUE = re.compile(r"[A-Za-z]{1,12}|[A-Z]+(?:_[A-Z0-9]+)+|\d{1,7}")
_WINDOW = 4096  # a value's characters judged (a long prompt as an id: each of its names is tried)
_MIXED = 4  # letter/digit switches in one run that no word, version or model name has (Tr0ub4dor)


def _digest(text: str, legacy: bool = False) -> str:
    """8 hex of ``text``'s slow hash; ``legacy``: of its bare sha256, as folders were named before."""
    digest = legacy_hashed(text) if legacy else hashed(text, "test-id")
    return digest.partition(":")[2][:8]


def _blanked(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` with ``spans`` as spaces (same length: offsets stay; a space ends every token)."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = " " * (end - start)
    return "".join(chars)


def _every(text: str, secret: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(re.escape(secret), text)]


def _secret_spans(text: str, params: Mapping[str, object]) -> list[tuple[int, int]]:
    """Where ``text`` (a test id) holds a credential, by the library's rules: a known format anywhere
    (`known_format`); a whole part (between ``-``, with pytest's suffix for a repeated id) that is the
    value of a parameter named like a secret (`secret_value`: ``api_key``, ``password``); a random
    token (`random_token`), judged per part first so the other parts stay, then on what is left."""
    spans = [span for secret in known_format(text) for span in _every(text, secret)]
    for name, value in params.items():
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not secret_value(name, value):
            continue
        for written in {str(value), str(value).encode("unicode_escape").decode("ascii")}:
            pattern = re.compile(rf"(?<![^\[-]){re.escape(written)}\d*(?![^\]-])")
            spans += [m.span() for m in pattern.finditer(text)]
    rest = _blanked(text, spans)
    for part in _PART.finditer(rest):
        token = random_token(part.group(0))
        if token is not None:
            start = part.start() + part.group(0).index(token)
            spans.append((start, start + len(token)))
    rest = _blanked(text, spans)
    while (token := random_token(rest)) is not None:  # one spanning parts: all of it
        start = rest.index(token)
        spans.append((start, start + len(token)))
        rest = _blanked(rest, spans[-1:])
    return _merged(spans)


def _token(value: str) -> bool:
    """Whether the value of a pair with no secret name (``bob:<value>``) has a credential's shape: a known
    format, a random token, or 16+ characters of two classes (`token_like`) that switch between letters
    and digits inside a run as no word, version or model name does (``Tr0ub4dor``; ``Mixtral-8x7B``,
    ``gpt-4o-mini-2024-07-18`` do not), or are random (`high_entropy`) and no path, version or model
    reference (``TheBloke/Mistral-7B-Instruct-v0.2-GGUF``). An API's id (``msg_01...``) and hex (a UUID)
    are none."""
    value = value.strip()
    if known_format(value) or random_token(value) is not None:
        return True
    if not token_like(value) or _ID.fullmatch(value):
        return False
    runs = [run for run in _ALNUM.findall(value) if not _HEX.fullmatch(run)]
    if any(len(_SWITCH.findall(run)) >= _MIXED for run in runs):
        return True
    return high_entropy(value) and not _NAMED.search(value)


def _pair_secret(name: str, sep: str, rest: str) -> tuple[int, int] | None:
    """Where in ``rest`` (what follows ``name`` and ``sep``) the secret is, if any: by a field's rules
    (`secret_value`) the whole rest (``password: two words``) or its first word (``token=<token> more``),
    or the credential after a scheme (``X-Auth-Token: Token <token>``); else, after a ``:``, a password
    in ``user:pass@host`` or a first word that is a token (`_token`). A short word or number is no
    credential in an id (``password-policy:strict``, ``invalid-api-key:401``, ``cookie:none``)."""
    word = _WORD.match(rest)
    if word is None or rest.startswith(_MARKED) or _PLAIN_VALUE.fullmatch(rest.strip()):
        return None
    if secret_value(name, rest.rstrip()):
        return 0, len(rest.rstrip())
    if secret_value(name, word.group(0)):
        return word.span()
    scheme = _SCHEME.match(rest)
    credential = _WORD.match(rest, scheme.end()) if scheme is not None else None
    if credential is not None and secret_value(name, credential.group(0)):
        return 0, credential.end()
    if sep != ":":
        return None
    userinfo = _USERINFO.fullmatch(word.group(0))
    if userinfo is not None and not _PLAIN.fullmatch(userinfo.group(1)) and name != "mailto":
        return userinfo.span(1)
    return word.span() if _token(word.group(0)) else None


def _set_spans(text: str, parts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Where ``text`` (a test id) sets a name to a secret (`_pair_secret`), each name judged in turn. A
    value ends where the line does, or where the part (a string parameter, ``parts``: where the id holds
    one) holding its ``:`` or ``=`` does: ``cookie:none-gpt-4o`` is ``cookie:none`` and ``gpt-4o``."""
    spans = []
    for match in _SET.finditer(text):
        start, end = match.end(), text.find("\n", match.end())
        end = len(text) if end < 0 else end
        bound = max((e for s, e in parts if s <= match.start(2) < e), default=end)
        end = min(end, bound) if bound > start else end
        rest = text[start : min(end, start + _WINDOW)]
        found = _pair_secret(match.group(1), match.group(2), rest)
        if found is not None:  # a secret reaching the window's edge: to the value's end
            spans.append((start + found[0], end if found[1] == len(rest) else start + found[1]))
    return _merged(spans)


def _replaced(text: str, spans: list[tuple[int, int]], legacy: bool = False) -> str:
    """``text`` with each of ``spans`` (sorted, apart) as ``secret-<8 hex of it>``."""
    for start, end in reversed(spans):
        text = f"{text[:start]}{_HIDDEN}{_digest(text[start:end], legacy)}{text[end:]}"
    return text


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _pairs_hidden(test_id: str, params: Mapping[str, object], legacy: bool = False) -> str:
    """``test_id`` (its other credentials hidden already) with the secrets of its pairs hidden
    (`_set_spans`, the string parameters found where the id holds them). A mark `hidden` wrote is read
    as a placeholder, so an id hidden before keeps its name."""
    values = {v for v in params.values() if isinstance(v, str) and v}
    values |= {v.encode("unicode_escape").decode("ascii") for v in values}
    read = _MARK.sub(_MARKED, test_id)
    parts = [(at, at + len(value)) for value in values for at in _every_start(read, value)]
    return _replaced(test_id, _set_spans(read, parts), legacy)


def _every_start(text: str, part: str) -> list[int]:
    starts, at = [], text.find(part)
    while at >= 0:
        starts.append(at)
        at = text.find(part, at + len(part))
    return starts


def hidden(test_id: str, params: Mapping[str, object] | None = None, *, legacy: bool = False) -> str:
    """``test_id`` with each credential in it (`_secret_spans`, then `_pairs_hidden`; ``params``: the
    test's parameters by name) replaced by ``secret-<8 hex of it>``: stable, so replay finds the folder it
    recorded. An id the secret scanner still finds something in (a URL with a password) becomes one hash.
    An id these rules find nothing in keeps its name: a renamed folder would have to be recorded again.
    ``legacy``: the name given before, each hex of a bare sha256."""
    out = _replaced(test_id, _secret_spans(test_id, params or {}), legacy)
    if _flagged(out):
        return f"{_HIDDEN}{_digest(test_id, legacy)}"
    paired = _pairs_hidden(out, params or {}, legacy)
    return f"{_HIDDEN}{_digest(test_id, legacy)}" if paired != out and _flagged(paired) else paired


def _flagged(test_id: str) -> bool:
    """Whether the scanner still finds a credential in an id, as it did when folders were first named
    so: one line setting a secret name (``api_key: ...``) is `_pairs_hidden`'s to hide, keeping the name
    readable (and every folder named before where it was)."""
    one_line = "\n" not in test_id
    return any(not (one_line and f.kind == LINE_SETTING) for f in _SCANNER.scan(test_id))


def shown_path(path: str) -> str:
    """A POSIX ``path`` as a report or a message shows it: each name holding a credential masked, by
    the rules ``httpx-cassette scan`` judges names with (a folder named before ids were `hidden`), and a
    name that is no UTF-8 (git stores any bytes; Python reads them as lone surrogates, which no JSON
    report or UTF-8 terminal takes) written with ``\\udcXX`` escapes."""
    shown = "/".join(masked_name(name) for name in path.split("/"))
    return shown.encode("utf-8", "backslashreplace").decode("utf-8")


def safe_id(test_id: str, params: Mapping[str, object] | None = None, *, legacy: bool = False) -> str:
    """A parametrize id as a path component: its credentials `hidden`, then kept when safe and short,
    else cleaned plus a hash."""
    test_id = hidden(test_id, params, legacy=legacy)
    safe = _UNSAFE.sub("_", test_id).strip("._-")
    if safe == test_id and len(test_id) <= _MAX_ID:
        return test_id
    digest = hashlib.sha256(test_id.encode()).hexdigest()[:8]
    head = safe[: _MAX_ID - 9].rstrip("._-")
    return f"{head}-{digest}" if head else digest


def folder_name(item: pytest.Function, *, legacy: bool = False) -> str:
    """``test_name``, ``Class.test_name``, plus ``-<id>`` for a parametrized test (``legacy``: its
    credentials hidden as before, `hidden`)."""
    name = item.originalname
    if item.cls is not None:
        name = f"{item.cls.__name__}.{name}"
    callspec = getattr(item, "callspec", None)
    return f"{name}-{safe_id(callspec.id, callspec.params, legacy=legacy)}" if callspec is not None else name


def recording_name(item: pytest.Function, *, legacy: bool = False) -> str:
    """The cassette name pytest-recording gives the test, without ``.yaml``: the folder a YAML
    cassette converted by ``httpx-cassette convert --from vcr`` lands in (``test_x[gpt-4o]``).

    ``@pytest.mark.default_cassette("name.yaml")`` names it; else ``Class.name`` or ``name`` with the
    parametrize id (its credentials `hidden`; ``legacy``: as named before, `hidden`'s), forbidden
    characters replaced by ``-`` and long names shortened, as it does.
    """
    marker = item.get_closest_marker("default_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
    else:
        name = item.name
        callspec = getattr(item, "callspec", None)
        if callspec is not None and name == f"{item.originalname}[{callspec.id}]":
            name = f"{item.originalname}[{hidden(callspec.id, callspec.params, legacy=legacy)}]"
        elif callspec is not None:
            name = hidden(name, callspec.params, legacy=legacy)
        name = f"{item.cls.__name__}.{name}" if item.cls is not None else name
        for char in _FORBIDDEN:
            name = name.replace(char, "-")
    return shortened(name)


def shortened(name: str) -> str:
    """A pytest-recording cassette name (a ``default_cassette_name`` fixture's value) as a folder name:
    shortened as it shortens a file name over 255 characters with ``.yaml``, without ``.yaml``."""
    if len(name) + len(_YAML) > _NAME_MAX:
        digest = hashlib.md5(name.encode()).hexdigest()  # md5 of the name: what pytest-recording appends
        name = f"{name[: _NAME_MAX - len(_YAML) - len(digest) - 3]}...{digest}"
    return name.removesuffix(_YAML)


@dataclass(frozen=True)
class Layout:
    """The cassette folders of a run: ``root`` is relative (beside each test file) or absolute (one
    folder for the suite); ``rootdir`` is pytest's."""

    root: Path
    rootdir: Path

    def module_folder(self, module: Path) -> Path:
        """The folder holding the cassettes of test module ``module``."""
        if self.root.is_absolute():
            try:
                return self.root / module.parent.relative_to(self.rootdir) / module.stem
            except ValueError:  # a test file outside rootdir
                return self.root / module.stem
        return module.parent / self.root / module.stem

    def cassette_root(self, directory: Path) -> Path:
        """The folder holding the module folders of the test files in ``directory``."""
        return self.module_folder(directory / "x.py").parent

    def test_folder(self, item: pytest.Function) -> Path:
        """The test's own cassette, used when its marker names no path. An id holding a credential:
        the folder named before (`hidden`'s ``legacy``) while there is one and none has the new name."""
        folder = self.module_folder(item.path) / folder_name(item)
        if _HIDDEN not in folder.name or folder.exists():
            return folder
        before = folder.with_name(folder_name(item, legacy=True))
        return before if before.is_dir() else folder

    def marker_path(self, item: pytest.Function, value: str | os.PathLike[str]) -> Path:
        """A marker's path: relative ones are inside the module's cassette folder."""
        path = Path(value)
        return path if path.is_absolute() else self.module_folder(item.path) / path

    def cassette_of(self, item: pytest.Function, value: str | os.PathLike[str] | None) -> Path:
        """The cassette the test opens: the marker's path if it gives one, else the test's own."""
        return self.test_folder(item) if value is None else self.marker_path(item, value)

    def shown(self, path: Path) -> str:
        """``path`` as messages show it: relative to rootdir when inside it, a name holding a
        credential masked (`shown_path`)."""
        try:
            return shown_path(path.relative_to(self.rootdir).as_posix())
        except ValueError:
            return shown_path(path.as_posix())
