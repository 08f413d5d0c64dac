"""What counts as a credential by its name or its shape: the rules redaction and the scanner share.

A name is split into words (``x-session-token``, ``clientSecret``, ``API_KEY`` -> words), then:

* a *sure* name (``password``, ``secret``, ``api_key``, ``credential``, ``cookie``, ``authorization``...)
  holds a secret whatever its value looks like (spaces, digits);
* a *maybe* name (``key``, ``token``, ``*_token``, ``*-key``) holds one when the value looks like a
  token: 16+ characters (stripped) with no space inside, mixed character classes (``%&=`` included: a
  SAS token). So ``"token": " Hello"`` (logprobs) and ``"monkey": "banana"`` stay;
* in a query string (and a form body), a *maybe* name, ``sig``, ``signature`` or ``code`` holds a
  secret whatever its value (in a JSON body a ``signature`` is content: Anthropic's thinking blocks).

A *credential* name (``access_token``, ``refresh_token``, ``id_token``, ``auth_token``: a token word
after a word that says whose) holds one whatever its alphabet (all digits, all lower case), unless the
value is trivial: shorter than 8 characters, a short word (``none``, ``expired``), or with a space.

A trailing number or version is not a word of the name (``key1``, ``access_token_v2``); a plural is
judged as its singular (``api_keys``, ``cookies``), ``tokens`` and ``keys`` only alone or after a
credential word (``max_tokens``, ``sort_keys`` stay names). Pagination cursors are exempt (replay needs
them, they expire): a name whose next-to-last word says so (``next_page_token``, ``csrf_token``), or a
cursor; a sure name wins, and the word must sit there (``page_access_token`` is a credential).
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from httpx_cassette.core.formats import known_format
from httpx_cassette.core.hashing import hashed, legacy_form, legacy_hashed
from httpx_cassette.core.randomness import entropy, high_entropy, random_token

__all__ = [
    "as_lines",
    "assigned_secrets",
    "REDACTED",
    "entropy",
    "any_secret_name",
    "connection_secrets",
    "field_name",
    "hashed",
    "high_entropy",
    "is_hashed",
    "is_placeholder",
    "stands_in",
    "known_format",
    "legacy_form",
    "legacy_hashed",
    "random_token",
    "secret_named",
    "secret_value",
    "token_like",
    "trivial",
]

REDACTED = "REDACTED"

_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_SURE_WORDS = frozenset(
    {"secret", "password", "passwd", "pwd", "passphrase", "credential", "credentials", "cookie"}
    | {"authorization", "apikey", "privatekey", "secretkey", "accesskey", "clientsecret", "cookie2"}
)
_SURE_PAIRS = frozenset({("api", "key"), ("private", "key"), ("secret", "key"), ("access", "key")})
# Sure only as the last word (``db_pass``, ``PASS``): ``pass_count``, ``pass_through`` are no secrets.
_SURE_LAST = frozenset({"pass"})
_MAYBE_LAST = frozenset({"key", "token", "jwt", "sas", "auth", "bearer"})
# Words that make the token after them a pagination cursor or a CSRF token (``next_page_token``).
_NOT_SECRET = frozenset({"page", "cursor", "next", "continuation", "csrf", "xsrf"})
# Query parameters are always strings a server reads as credentials when named so: OAuth codes and
# URL signatures too (in a JSON body, a ``signature`` is content: Anthropic's thinking blocks). A name
# added here changes the key of every recording that holds it (its value is keyed as REDACTED): none is
# added without a way for those files to keep replaying.
_QUERY_LAST = _MAYBE_LAST | {"code", "sig", "signature"}


# Plurals judged as their singular: ``api_keys``, ``passwords``. (``credentials`` is a sure word itself.)
_SINGULARS = ("secret", "password", "passphrase", "cookie", "key", "token", "apikey", "privatekey")
_PLURALS = {word + "s": word for word in (*_SINGULARS, "secretkey", "accesskey", "clientsecret")}
# The word before ``token`` that makes it a credential by definition, whatever its value looks like.
_CREDENTIAL_OF = frozenset(
    {"access", "refresh", "id", "auth", "session", "bearer", "oauth", "security", "bot", "personal"}
    | {"app", "client", "api", "user", "service"}
)
_TRIVIAL = re.compile(r"[A-Za-z]{1,12}|.{0,7}|.*\s.*", re.DOTALL)  # a short word, a short value, a phrase
_MIN_CREDENTIAL_DIGITS = 8  # a whole number under a credential name (``"access_token": 12345678``)


def words(name: str) -> list[str]:
    """``"x-Session_Token"`` -> ``["x", "session", "token"]``; camelCase splits too."""
    return [w.lower() for w in _WORDS.findall(name)]


def _name_words(name: str) -> list[str]:
    """The words that judge ``name``: a trailing number or version left out (``key1``, ``token_v2``)."""
    parts = words(name)
    end = len(parts)
    while end and parts[end - 1].isdigit():
        end -= 1
    if end < len(parts) and end > 1 and parts[end - 1] == "v":
        end -= 1
    return parts[:end]


def _sure(parts: list[str]) -> bool:
    return (
        bool(_SURE_WORDS.intersection(parts))
        or parts[-1] in _SURE_LAST
        or any(pair in _SURE_PAIRS for pair in itertools.pairwise(parts))
    )


def _pagination(parts: list[str]) -> bool:
    """``next_page_token``, ``pageToken``, ``continuation_token``, ``csrf_token``: the word before the
    last says what the token is. Anywhere else (``page_access_token``) it names something else."""
    return len(parts) >= 2 and parts[-2] in _NOT_SECRET


MAX_NAME = 128


@functools.lru_cache(maxsize=4096)  # names repeat: every event of a stream has the same fields
def secret_named(name: str, *, query: bool = False) -> str | None:
    """``"sure"``, ``"maybe"`` (see the module docstring) or None for a field, header or parameter name.
    A name is short: text longer than `MAX_NAME` (a form read out of base64 text, prose as a key) holds
    some secret word by chance, and names nothing."""
    if len(name) > MAX_NAME:
        return None
    parts = _name_words(name)
    if not parts or parts[-1] in ("name", "names"):  # SharedAccessKeyName, secretName: what it is called
        return None
    singular = [_PLURALS.get(w, w) for w in parts]
    if _sure(singular) or _run_together(parts[-1]):  # before the pagination exemption
        return "sure"
    if _pagination(parts):
        return None
    # A cursor (``cursor``, ``next_cursor``) ends in no maybe word, so it is never secret either.
    last = singular[-1]
    if last not in (_QUERY_LAST if query else _MAYBE_LAST):
        return None
    whose = len(parts) > 1 and parts[-2] in _CREDENTIAL_OF
    if last != parts[-1] and not whose and (query or len(parts) > 1):  # max_tokens, sort_keys, ?keys=
        return None
    return "maybe"


# A name written run together in one case (``dbpassword``, ``ACCESSTOKEN``, ``masterkey``) is one word:
# it is a secret name when it ends in one of these.
_RUN_TOGETHER = (
    *("password", "passwd", "passphrase", "secret", "credential", "apikey", "privatekey", "secretkey"),
    *("accesskey", "masterkey", "signingkey", "accesstoken", "refreshtoken", "authtoken", "idtoken"),
    *("sessiontoken", "bearertoken", "apitoken", "clientsecret"),
)


def _run_together(word: str) -> bool:
    stem = word[:-1] if word.endswith("s") else word  # passwds, accesstokens
    return len(stem) >= 6 and stem.endswith(_RUN_TOGETHER)


@functools.lru_cache(maxsize=4096)
def _credential_named(name: str) -> bool:
    """A maybe name that is a credential by definition: ``access_token``, ``refresh_tokens``, ``id_token``."""
    parts = _name_words(name)
    return len(parts) > 1 and _PLURALS.get(parts[-1], parts[-1]) == "token" and parts[-2] in _CREDENTIAL_OF


_VALUE_NAMES = frozenset({"name", "key", "keyname", "field", "variable", "parameter", "label"})
# Keys that hold the value a record is about: judged by what names the record (a sibling, its parent).
# Secret managers answer with them: Doppler's ``raw``/``computed``, GCP's ``payload.data``.
_VALUE_KEYS = frozenset({"value", "data", "raw", "computed", "payload"})


def any_secret_name(names: Iterable[object]) -> bool:
    """Whether one of ``names`` (dictionary keys) is a secret name, by the broader query rules or a body's,
    or whether they hold a ``name``/``value`` pair (whose ``value`` the ``name`` may call secret)."""
    keys = {n for n in names if isinstance(n, str)}
    if any(secret_named(n, query=True) or secret_named(n) for n in keys):
        return True
    lowered = {n.lower() for n in keys}
    return not _VALUE_KEYS.isdisjoint(lowered) and not (_VALUE_NAMES | {"type", "id", "purpose"}).isdisjoint(
        lowered
    )


_QUERY_OBJECTS = frozenset({"query", "params", "query_params", "querystring", "query_string"})
_RECORD_KEYS = _VALUE_NAMES | {"id", "type", "kind", "value"}


def field_name(parent: str | None, key: str, siblings: Mapping[Any, Any] | None = None) -> tuple[str, bool]:
    """The name a value at ``parent.key`` is judged by, and whether by query-parameter rules: an echoed
    query object (``"query": {"code": ...}``) counts as query parameters; a ``value`` is judged by a
    sibling that names it (``{"name": "DB_PASSWORD", "value": ...}``, an SSM ``SecureString``), else as
    the secret of a secret-named object (``"client_secret": {"value": ...}``); and a plain value in a
    map under a plural secret name (``"cookies": {"sessionid": ...}``) by that name. ``siblings``: the
    object ``key`` is in."""
    if key.lower() in _VALUE_KEYS:
        named = _named_by_sibling(siblings) if siblings is not None else None
        if named is not None:
            return named, False
        if parent is not None and secret_named(parent):
            return parent, False
    elif parent is not None and siblings is not None and _secret_map(parent, siblings.get(key), siblings):
        return parent, False
    return key, parent is not None and parent.lower() in _QUERY_OBJECTS


def _named_by_sibling(siblings: Mapping[Any, Any]) -> str | None:
    for key, value in siblings.items():
        lower = str(key).lower()
        if lower in _VALUE_NAMES and isinstance(value, str) and len(value) <= 256 and secret_named(value):
            return value
        if lower == "type" and value in ("SecureString", "CONCEALED"):  # AWS SSM, 1Password: encrypted
            return "SecureString secret"
        if lower == "purpose" and value == "PASSWORD":  # 1Password
            return "password"
        # A secret manager's record: Azure Key Vault's id, GCP Secret Manager's name (".../secrets/...").
        if lower in ("id", "name") and isinstance(value, str) and "/secrets/" in value[:512]:
            return "secret"
    return None


def _secret_map(parent: str, value: object, siblings: Mapping[Any, Any]) -> bool:
    """A string or number in an object under a plural sure name that is no record (no name, id, type
    or value keys): ``{"secrets": {"db": ...}}``, but not ``{"secrets": [{"name": "GH_TOKEN"}]}``."""
    if not isinstance(value, (str, int)) or isinstance(value, bool) or not _plural_sure(parent):
        return False
    return all(str(k).lower() not in _RECORD_KEYS for k in siblings)


@functools.lru_cache(maxsize=1024)
def _plural_sure(name: str) -> bool:
    parts = _name_words(name)
    return bool(parts) and parts[-1] in _PLURALS and secret_named(name) == "sure"


# Any characters but spaces: SAS tokens hold ``&``, ``%`` and ``=``, percent-encoded tokens ``%``.
_TOKEN = re.compile(r"\S{16,}")
# ``<NAME>`` or ``<<NAME>>`` (the form a placeholder clash suggests), NAME written in capitals like an
# environment variable: what the docs show, and never what a password or a key looks like.
_PLACEHOLDER = re.compile(r"<(<)?([A-Z_][A-Z0-9_.-]{0,63})>(?(1)>)")
# What text shows where a credential goes (`stands_in`): a variable's reference named in capitals
# (`$OPENAI_API_KEY`, `${TOKEN}`, `%API_KEY%`, `$env:API_KEY`) or a template's (`{{ api_key }}`); a
# name in capitals with its words apart (`YOUR_API_KEY`); words in angle brackets naming what goes there
# (`<your-token>`).
_CAPITALS = r"[A-Z_][A-Z0-9_]{0,63}"
_TEMPLATE = r"\{\{ *[A-Za-z_][\w.]{0,63} *\}\}"
_REFERENCE = re.compile(
    rf"\$(?:\{{({_CAPITALS})\}}|({_CAPITALS})|env:({_CAPITALS}))|%({_CAPITALS})%|{_TEMPLATE}"
)
_CAPITAL_WORDS = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
_BRACKETED_WORDS = re.compile(r"<[a-z]+(?:[ _-][a-z]+)+>")
_WHAT_GOES_THERE = re.compile(r"your|token|key|secret|password|here|api")
_NAME_SEPARATORS = re.compile(r"[_.-]")
_NAME_RUN = re.compile(r"[A-Z]*[0-9]*")
_HASHED = re.compile(r"(?:scrypt|sha256):[0-9a-f]{64}")  # `hashed`; `legacy_hashed`


def token_like(value: str) -> bool:
    """16+ characters without a space (surrounding whitespace aside: a token read from a file keeps its
    newline), at least two of upper case, lower case, digits."""
    text = value.strip()
    if not _TOKEN.fullmatch(text):
        return False
    classes = (text.lower() != text, text.upper() != text, any(c.isdigit() for c in text))
    return sum(classes) >= 2


def _named_like(name: str) -> bool:
    """Words, each maybe ending in a number, between separators (``OPENAI_API_KEY_2``, ``GPT4_EU2``),
    as an environment variable is named; random text mixes letters and digits (``Q3EXAMPLE7ZT4WB2``)."""
    return all(_NAME_RUN.fullmatch(run) or len(run) <= 3 for run in _NAME_SEPARATORS.split(name))


def is_placeholder(value: str) -> bool:
    """``<NAME>`` or ``<<NAME>>`` with NAME in capitals, digits, ``_``, ``-``, ``.``: what a placeholder
    looks like, so no secret. A credential in angle brackets (``<AKIA...>``, ``<ghp_...>``) is none, nor
    is a NAME that looks like a token, nor lower-case text (``<hunter2pw>``: a password may be written so;
    the placeholders the docs show are capitals)."""
    match = _PLACEHOLDER.fullmatch(value)
    if match is None:
        return False
    name = match.group(2)
    if known_format(name) or random_token(name) is not None:
        return False
    return not token_like(name) or _named_like(name)


def stands_in(value: str) -> bool:
    """Whether ``value`` is what text (code, a command line, prose) shows where a credential goes: a
    placeholder, a variable's or a template's reference (``$OPENAI_API_KEY``, ``${TOKEN}``, ``%API_KEY%``,
    ``{{ api_key }}``), a name in capitals (``YOUR_API_KEY``), words naming what goes there
    (``<your-token>``). Only in text: under a secret's name in data, ``$hunter2pw`` or
    ``ADMIN_PASSWORD_2024`` may be the password itself."""
    if is_placeholder(value):
        return True
    reference = _REFERENCE.fullmatch(value)
    if reference is not None:
        name = next((group for group in reference.groups() if group), None)
        return name is None or _named_like(name)  # `$Q7XK9ZP2M4RT8WNJ5C` is a token after a `$`
    if _BRACKETED_WORDS.fullmatch(value):
        return _WHAT_GOES_THERE.search(value) is not None  # not `<correct horse battery staple>`
    return _CAPITAL_WORDS.fullmatch(value) is not None and not known_format(value) and _named_like(value)


def is_hashed(value: str) -> bool:
    """Whether ``value`` is a secret as `hashed` (or, in a file written before, `legacy_hashed`) stores it."""
    return bool(_HASHED.fullmatch(value))


def trivial(value: str) -> bool:
    """A short word, a short value or a phrase: no credential, even under a credential's name."""
    return _TRIVIAL.fullmatch(value.strip()) is not None


def secret_value(name: str, value: object, *, query: bool = False) -> bool:
    """Whether ``value`` under ``name`` is a credential to keep off disk (strings and whole numbers)."""
    kind = secret_named(name, query=query)
    if kind is None or isinstance(value, bool):
        return False
    if isinstance(value, int):
        return kind == "sure" or (_credential_named(name) and len(str(abs(value))) >= _MIN_CREDENTIAL_DIGITS)
    if not isinstance(value, str) or not value.strip() or value == REDACTED:
        return False
    if is_placeholder(value) or is_hashed(value):
        return False
    if kind == "maybe" and not query and _credential_named(name):
        return not trivial(value)
    return kind == "sure" or query or token_like(value)


# ``Name=value`` settings separated by semicolons: a connection string (``AccountKey=...;``).
_SETTING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9 _.-]{0,63}")


def connection_secrets(text: str) -> list[str]:
    """The secret values of a connection string (``AccountKey=...``, ``SharedAccessKey=...``,
    ``Password=...``): text made wholly of two or more ``Name=value`` settings separated by semicolons,
    each judged by the rules of a query parameter (a maybe name holds a secret whatever its value)."""
    if ";" not in text or "=" not in text:
        return []
    settings = [s for s in text.strip().split(";") if s.strip()]
    pairs = [(name.strip(), eq, value.strip()) for name, eq, value in (s.partition("=") for s in settings)]
    if len(pairs) < 2 or not all(eq and _SETTING_NAME.fullmatch(name) for name, eq, _ in pairs):
        return []
    return [value for name, _, value in pairs if secret_value(name, value, query=True)]


def redact_fields(
    data: Any, found: list[tuple[str, Any]], name: str | None = None, query: bool = False
) -> Any:
    """``data`` (decoded JSON) with its secret-named fields as `REDACTED`, by the rules the scanner and
    redaction walk bodies with (`field_name`, `secret_value`; items of a list by the list's name); each
    ``(name, value)`` replaced is added to ``found``. Recursive: JSON this deep is a few KiB at most."""
    if isinstance(data, dict):
        judged = {key: field_name(name, str(key), data) for key in data}
        return {key: redact_fields(item, found, *judged[key]) for key, item in data.items()}
    if isinstance(data, list):
        return [redact_fields(item, found, name, query) for item in data]
    if name is not None and secret_value(name, data, query=query):
        found.append((name, data))
        return REDACTED
    return data


# A line that sets a name to a value: dotenv (``export DB_PASSWORD=...``), YAML and INI (``password: ...``),
# a header dump (``X-Api-Key: ...``). Bounded, one try per line start: linear in the text.
_ASSIGNMENT = re.compile(
    r"^[ \t]*(?:export[ \t]+)?[\"']?([A-Za-z_][\w.-]{0,63})[\"']?[ \t]*[=:][ \t]*"
    r"[\"']?([^\s\"'&]{1,4096})[\"']?[ \t]*,?[ \t]*\r?$",  # "&": a form's (judged as a form)
    re.MULTILINE,
)


def assigned_secrets(text: str) -> list[str]:
    """The values of lines of a text file (a body, a decoded file) that set a secret-named name, by a
    field's rules: a sure name (``password``) whatever its value, a maybe name (``key``) a token."""
    if "=" not in text and ":" not in text:
        return []
    return [
        value
        for line in as_lines(text)
        for name, value in _ASSIGNMENT.findall(line)
        if secret_value(name, value)
    ]


def as_lines(text: str) -> list[str]:
    """``text``, and when it holds escaped line endings (a file quoted in a JSON string:
    ``KEY=1\\nDB_PASSWORD=...``) the same with them undone: a setting's value ends where its line does."""
    if "\\n" not in text:
        return [text]
    # Quoted twice (``\\\\n``) first, so no backslash is left at the end of a value
    undone = text.replace("\\\\r\\\\n", "\n").replace("\\\\n", "\n")
    return [text, undone.replace("\\r\\n", "\n").replace("\\n", "\n")]
