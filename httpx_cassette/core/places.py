"""Where credentials hide beyond plain JSON strings: URLs (userinfo, query, fragment, path, URLs inside
URLs, JSON inside a parameter, a webhook URL whose path is its secret, a URL JSON escapes), form bodies,
and free text such as a User-Agent (URLs in it included). (Bytes stored as base64, compressed or not,
are `httpx_cassette.core.decoded`'s: its helpers are named here too.)

Each place has one finder, used by the scanner (to report) and by redaction (to replace), so what
recording redacts and what `scan` reports on disk cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

import msgspec

from httpx_cassette.core.decoded import MAX_INFLATED, decoded_bytes, inflate, zlib_header
from httpx_cassette.core.secrets import (
    REDACTED,
    high_entropy,
    known_format,
    random_token,
    redact_fields,
    secret_value,
    token_like,
)

__all__ = [
    "MAX_INFLATED",
    "URL_DEPTH",
    "absolute_urls",
    "URL_IN_TEXT",
    "decoded_bytes",
    "free_text_secrets",
    "has_url",
    "may_hold_url",
    "inflate",
    "zlib_header",
    "redact_url",
    "redact_urls_in_text",
    "scrub_free_text",
    "url_like",
    "url_secrets",
    "urls_in_text",
]

URL_DEPTH = _MAX_DEPTH = 3  # URLs in URLs are examined this many levels down (a viewer's ?src=, ?next=)

# A scheme is short; bounding it keeps a long run of letters from being rescanned at every position.
_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]{0,31}"
# "://" percent-encoded: `quote(url, safe="")` writes "%3A%2F%2F", `quote(url)` writes "%3A//".
_ENCODED_SEPARATOR = r"%3[Aa](?:%2[Ff]|/){2}"
# Sentence punctuation and closing brackets do not end a URL: "(+https://example.com/bot)".
_LAST = r"[^\s\"'<>.,;:!?)\]}]"
# A URL in free text, written out or percent-encoded as a whole (then a literal "&" is the text's own:
# the URL's would be encoded too). An apostrophe is a legal query character (httpx sends it as is): it
# only ends a URL when it is the last character.
URL_IN_TEXT = re.compile(
    _SCHEME + r"(?:://[^\s\"<>]*" + _LAST + "|" + _ENCODED_SEPARATOR + r"[^\s\"'<>&]*" + _LAST[:-1] + "&])"
)
# A path with a query or a fragment standing on its own in text: what urllib3 writes in its errors
# ("Max retries exceeded with url: /v1/x?api_key=..."), a Link or Refresh header, a message naming a
# page. Its parameters are judged as an absolute URL's are (it goes to the request's own host).
_RELATIVE = r"(?<![\w/.:%~+-])/[^\s\"<>?#]*[?#][^\s\"<>]*" + _LAST
_ANY_URL = re.compile(URL_IN_TEXT.pattern + "|" + _RELATIVE)
_ENCODED_URL = re.compile(_SCHEME + _ENCODED_SEPARATOR)
_URL_START = re.compile(_SCHEME + "(?:://|" + _ENCODED_SEPARATOR + ")")
# A URL in JSON that escapes "/" (PHP's json_encode, Laravel's @json in a page: ``mysql:\/\/app:pw@db``),
# "&" or other characters as ``\uXXXX`` (Go, Django): found as written, judged unescaped.
_ESCAPED_SLASHES = ":\\/\\/"
_ESCAPED_URL = re.compile(_SCHEME + r":\\/\\/(?:\\/|\\u[0-9A-Fa-f]{4}|[^\s\"<>\\])*")


def has_url(text: str) -> bool:
    """Whether ``text`` may hold a URL `URL_IN_TEXT` finds: a cheap test before the regular expression."""
    return "://" in text or "%3A" in text or "%3a" in text


def _may_hold_params(text: str) -> bool:
    return "=" in text and "/" in text and ("?" in text or "#" in text)


def urls_in_text(text: str) -> list[str]:
    """Every URL in free text (`URL_IN_TEXT`), and every path with parameters standing on its own; a
    URL JSON-escaped in it (``https:\\/\\/...``) unescaped."""
    found = _ANY_URL.findall(text) if has_url(text) or _may_hold_params(text) else []
    if _ESCAPED_SLASHES in text:
        found += [url for url in _escaped(text, _ANY_URL) if url not in found]
    return found


def absolute_urls(text: str) -> list[str]:
    """The absolute URLs in ``text`` (`URL_IN_TEXT`), JSON-escaped ones unescaped."""
    return (URL_IN_TEXT.findall(text) if has_url(text) else []) + _escaped(text, URL_IN_TEXT)


def _escaped(text: str, pattern: re.Pattern[str]) -> list[str]:
    """What ``pattern`` finds in each JSON-escaped URL of ``text``, unescaped."""
    if _ESCAPED_SLASHES not in text:
        return []
    return [url for written in _ESCAPED_URL.findall(text) for url in pattern.findall(_unescaped(written))]


def _unescaped(written: str) -> str:
    try:
        return str(msgspec.json.decode(f'"{written}"'))
    except msgspec.DecodeError:  # a lone surrogate escape
        return written.replace("\\/", "/")


def may_hold_url(text: str) -> bool:
    """Whether ``text`` may hold a URL `urls_in_text` finds (for a pre-check over many strings)."""
    if has_url(text) or _ESCAPED_SLASHES in text:
        return True
    return _may_hold_params(text) and _ANY_URL.search(text) is not None


def url_like(value: str) -> bool:
    """Whether a (decoded) parameter value is itself a URL that can carry parameters: absolute,
    percent-encoded again, or a path with a query or fragment (``?next=/cb?code=...``)."""
    return bool(_URL_START.match(value)) or (value.startswith("/") and ("?" in value or "#" in value))


def _token_user(username: str) -> bool:
    """Whether a URL's user name is a credential (``https://ghp_...@github.com``): a known format or a
    random token; a person's or a service's name (``alice``, ``git``, ``x-access-token``) is not."""
    name = unquote(username)
    if name == REDACTED:
        return False
    # token_like alone would take "deploy-bot-20240101" for a token: a random one also has high entropy.
    return (
        bool(known_format(name))
        or random_token(name) is not None
        or (token_like(name) and high_entropy(name))
    )


_DISCORD = re.compile(r"(?:(?:ptb|canary)\.)?discord(?:app)?\.com")
_SLACK_HOOKS = ("services", "workflows", "triggers")


def _path_credential(host: str | None, path: str) -> tuple[str, str] | None:
    """``(what, secret)`` for a URL whose path is its credential: a Slack incoming webhook
    (``hooks.slack.com/services/T.../B.../<secret>``) or a Discord one (``/api/webhooks/<id>/<secret>``)."""
    host, segments = (host or "").lower(), path.split("/")
    if host == "hooks.slack.com" and len(segments) >= 5 and segments[1] in _SLACK_HOOKS:
        what, secret = "Slack webhook secret in a URL path", segments[-1] or segments[-2]
    elif _DISCORD.fullmatch(host) and "webhooks" in segments[:4]:
        at = segments.index("webhooks") + 2
        what, secret = "Discord webhook token in a URL path", segments[at] if at < len(segments) else ""
    else:
        return None
    return (what, secret) if len(secret) >= 16 and secret != REDACTED else None


_PATH_TOKEN = "random token in a URL path"
_WORD_START = re.compile(r"[a-z]{1,8}")


def _unglued(path: str) -> Iterator[str]:
    """Each long path segment without each lower-case start of up to 8 letters (``bot``, ``botde`` of
    ``botde71...``): what a token glued to a word looks like without the word."""
    for segment in path.split("/"):
        start = _WORD_START.match(segment) if len(segment) >= 20 else None
        if start is not None:
            yield from (segment[k:] for k in range(1, start.end() + 1))


def url_secrets(url: str, *, paths: bool = True) -> list[tuple[str, str]]:
    """``(what, value)`` for each credential in ``url``: a token as the user name, a userinfo password, a
    secret query or fragment parameter (``#access_token=...``), a secret field of JSON in a parameter
    (a GraphQL GET's ``variables=``), a random token in a path segment (``/bot<token>/``), a webhook
    whose path is its secret, and the same inside a URL held by a parameter or the path (3 levels down);
    and a known format hidden by percent-encoding (``?q=%22AKIA...``), judged decoded. A URL
    percent-encoded as a whole (``https%3A%2F%2F...``) is judged decoded.

    ``paths=False`` for a URL written in text (a model's answer linking a commit, a document): a long
    id in its path is what such links hold, and the request never went there."""
    found = _url_secrets(url, _MAX_DEPTH)
    found = found if paths else [f for f in found if f[0] != _PATH_TOKEN]
    return found + [f for f in _encoded_formats(url) if f not in found]


def _encoded_formats(url: str) -> list[tuple[str, str]]:
    """Known formats that only percent-decoding shows: after an escape (``%22AKIA...``, ``x%0Aghp_...``,
    which the pattern's look-behind takes for a word) or encoded themselves; decoded once per level."""
    seen, found = set(known_format(url)), []
    for _ in range(_MAX_DEPTH + 1):
        decoded = unquote(url)
        if decoded == url:
            break
        url = decoded
        for secret in known_format(url):
            if secret not in seen:
                seen.add(secret)
                found.append(("percent-encoded credential in a URL", secret))
    return found


def _url_secrets(url: str, depth: int) -> list[tuple[str, str]]:
    if _ENCODED_URL.match(url):
        url = unquote(url)
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:  # not a URL after all
        return []
    found: list[tuple[str, str]] = []
    if username and _token_user(username):
        found.append(("token as the user name in a URL", username))
    if password and password != REDACTED:
        found.append(("password in a URL", password))
    found += _param_secrets(parts.query, "query", depth)
    found += _param_secrets(parts.fragment, "fragment", depth)
    path = unquote(parts.path)
    hook = _path_credential(parts.hostname, parts.path)
    if hook is not None:
        found.append(hook)
        path = path.replace(hook[1], REDACTED)
    # A segment may glue a word to its token (``/bot<token>/``): the token is judged without it too.
    unglued = "/".join(_unglued(path))
    token = random_token(path) or random_token(unglued)
    if token is not None:
        found.append((_PATH_TOKEN, token))
    glued = set(known_format(unglued)) - set(known_format(path))  # those the word hid from the pattern
    found += [("known format in a URL path", key) for key in sorted(glued)]
    if depth > 0 and has_url(path):  # a proxy's /fetch/https%3A%2F%2F...: refused, as a path token is
        for inner in URL_IN_TEXT.findall(path):
            found += [f for f in _url_secrets(inner, depth - 1) if f not in found]
    return found


def _param_secrets(params: str, part: str, depth: int) -> list[tuple[str, str]]:
    """Secret ``name=value`` pairs of a query or fragment, and those of URLs their values hold."""
    found: list[tuple[str, str]] = []
    if "=" not in params:  # a plain fragment (#section) has no parameters
        return found
    for name, value in parse_qsl(params, keep_blank_values=True):
        if secret_value(name, value, query=True):
            found.append((f"secret {part} parameter {name!r}", value))
        elif depth > 0 and url_like(value):
            found += _url_secrets(value, depth - 1)
        elif value[:1] in ("{", "["):
            _, fields = _json_redacted(value)
            found += [
                (f"secret field {k!r} of the JSON in {part} parameter {name!r}", str(v)) for k, v in fields
            ]
    return found


def _json_redacted(value: str) -> tuple[str, list[tuple[str, Any]]]:
    """A parameter's (decoded) value that is JSON, with its secret-named fields ``REDACTED`` (compact,
    when one was), and those fields; ``value`` and [] when it is no JSON. JSON too deep to walk is
    redacted whole."""
    found: list[tuple[str, Any]] = []
    try:
        data = msgspec.json.decode(value)
        redacted = redact_fields(data, found)
    except (msgspec.DecodeError, UnicodeEncodeError):  # a lone surrogate is no UTF-8: no JSON msgspec reads
        return value, []
    except RecursionError:
        return REDACTED, [("(too deep to read)", value)]
    return (msgspec.json.encode(redacted).decode() if found else value), found


def _redact_query(query: str, depth: int = _MAX_DEPTH) -> str:
    """Values of secret parameters replaced, URLs held by other values redacted (decoded, then encoded
    again); every other pair keeps its exact encoding. Used for fragments too."""
    pairs = query.split("&")
    for i, pair in enumerate(pairs):
        name, eq, value = pair.partition("=")
        if not eq:
            continue
        plain = unquote(value.replace("+", " "))
        if secret_value(unquote(name.replace("+", " ")), plain, query=True):
            pairs[i] = f"{name}={REDACTED}"
        elif depth > 0 and url_like(plain):
            inner = _redact_url(plain, depth - 1)
            if inner != plain:  # slashes stay as they were written: "%2F" or "/"
                pairs[i] = f"{name}={quote(inner, safe=_safe(value))}"
        elif plain[:1] in ("{", "["):  # JSON in a parameter: a GraphQL GET's variables={...}
            inner, fields = _json_redacted(plain)
            if fields:
                pairs[i] = f"{name}={quote(inner, safe='')}"
    return "&".join(pairs)


def _safe(encoded: str) -> str:
    """What `quote` leaves alone to encode a URL again as ``encoded`` was: ``quote(url)`` (its default)
    keeps slashes, ``quote(url, safe="")`` encodes them."""
    return "/" if "/" in encoded else ""


def redact_url(url: str) -> str:
    """``url`` with a token user name, a userinfo password and the values of secret query and fragment
    parameters as ``REDACTED``, in URLs its parameters hold too (3 levels down); ``url`` itself when
    nothing is secret. A URL percent-encoded as a whole is decoded, redacted and encoded again."""
    return _redact_url(url, _MAX_DEPTH)


def _redact_url(url: str, depth: int) -> str:
    if _ENCODED_URL.match(url):
        plain = unquote(url)
        redacted = _redact_url(plain, depth)
        return url if redacted == plain else quote(redacted, safe=_safe(url))
    try:
        parts = urlsplit(url)
        username, password = parts.username, parts.password
    except ValueError:
        return url
    netloc = parts.netloc
    if (username and _token_user(username)) or (password and password != REDACTED):
        userinfo, _, host = netloc.rpartition("@")
        user, colon, secret = userinfo.partition(":")
        user = REDACTED if username and _token_user(username) else user
        secret = REDACTED if password and password != REDACTED else secret
        netloc = f"{user}{colon}{secret}@{host}"
    query = _redact_query(parts.query, depth) if parts.query else parts.query
    # A fragment with name=value pairs is a query string for the browser (OAuth's #access_token=...).
    fragment = _redact_query(parts.fragment, depth) if "=" in parts.fragment else parts.fragment
    hook = _path_credential(parts.hostname, parts.path)  # so the file name, made from the path, is clean
    path = parts.path if hook is None else parts.path.replace(hook[1], REDACTED)
    if (netloc, query, fragment, path) == (parts.netloc, parts.query, parts.fragment, parts.path):
        return url
    return urlunsplit(parts._replace(netloc=netloc, query=query, fragment=fragment, path=path))


def redact_urls_in_text(text: str) -> str:
    """Every URL inside free text (an error message, a User-Agent) redacted as `redact_url` does,
    percent-encoded and JSON-escaped ones too (escaped again)."""
    if _ESCAPED_SLASHES in text:
        text = _ESCAPED_URL.sub(_redacted_escaped, text)
    if has_url(text) or _may_hold_params(text):
        return _ANY_URL.sub(lambda m: redact_url(m.group(0)), text)
    return text


def _redacted_escaped(match: re.Match[str]) -> str:
    written = match.group(0)
    plain = _unescaped(written)
    redacted = _ANY_URL.sub(lambda m: redact_url(m.group(0)), plain)
    return written if redacted == plain else msgspec.json.encode(redacted).decode()[1:-1].replace("/", "\\/")


_FREE_TOKEN = re.compile(r"[^\s;,()\[\]{}\"']+")


def free_text_secrets(text: str) -> list[str]:
    """Credentials in free text with no field name around them (a User-Agent, a comment): ``name=value``
    or ``name:value`` pairs with a secret name, random tokens (32+ hex, long random base64url), and
    what `url_secrets` finds in the URLs it holds."""
    found = known_format(text)
    if has_url(text):
        found += [value for url in URL_IN_TEXT.findall(text) for _, value in url_secrets(url)]
    for match in _FREE_TOKEN.finditer(text):
        token = match.group(0)
        name, sep, value = _pair(token)
        if sep and secret_value(name, value, query=True):
            found.append(value)
            continue
        random = random_token(token)
        if random is not None:
            found.append(random)
    return found


_SEPARATOR = re.compile(r"[=:]")


def _pair(token: str) -> tuple[str, str, str]:
    """``"key=abc"`` -> ``("key", "=", "abc")``; no separator -> ``(token, "", "")``."""
    match = _SEPARATOR.search(token)
    if match is None:
        return token, "", ""
    return token[: match.start()], match.group(0), token[match.end() :]


def scrub_free_text(text: str) -> str:
    """``text`` with its URLs redacted as `redact_urls_in_text` does, then what `free_text_secrets` still
    finds replaced by ``REDACTED``."""
    # URLs first, by their structure: a parameter's value is found decoded ("a+b" -> "a b"), which a
    # plain text replacement would miss.
    text = redact_urls_in_text(text)
    # Pairs and random tokens are replaced where they stand: a short value (``key=1``) replaced all over
    # the text would mangle every other ``1`` in it.
    text = _FREE_TOKEN.sub(_scrubbed_token, text)
    for secret in sorted(set(free_text_secrets(text)), key=len, reverse=True):  # known formats, anywhere
        text = text.replace(secret, REDACTED)
    return text


def _scrubbed_token(match: re.Match[str]) -> str:
    token = match.group(0)
    name, sep, value = _pair(token)
    if sep and secret_value(name, value, query=True):
        return f"{name}{sep}{REDACTED}"
    random = random_token(token)
    return token if random is None else token.replace(random, REDACTED)
