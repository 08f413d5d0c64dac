"""Our errors reach the caller as themselves, at once, through the SDKs' retry loops.

An SDK calls its HTTP client inside a retry loop; what it does with an exception from the transport
decides whether a replay miss costs seconds of backoff and comes out disguised as a connection error.
From their code (``_base_client.py`` of each, as installed):

- openai re-raises an ``OpenAIError`` untouched and retries only the HTTP libraries' request errors;
- anthropic re-raises an ``AnthropicError`` untouched; anything else becomes ``APIConnectionError``,
  which it retries with backoff;
- groq (the older Stainless loop) retries *every* ``Exception`` before wrapping it, whatever its class;
- cohere retries only ``httpx.ConnectError``/``RemoteProtocolError``; mistralai only the HTTP
  libraries' network and timeout errors (everything else goes out as itself).

So `as_sdk_error` gives an error, in place, a class that is also the base error of every such SDK
already imported (openai, anthropic), made on first use and cached; and for SDKs that retry
everything (groq) it guards their retry sleep: called while one of our errors is being handled, the
sleep re-raises it instead of waiting and trying again. SDKs are never imported here: only those in
``sys.modules`` (which the caller's SDK is) are touched.
"""

from __future__ import annotations

import functools
import inspect
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from httpx_cassette.errors import CassetteError

__all__ = ["as_sdk_error", "sdk_proof", "sdk_proof_async"]

E = TypeVar("E", bound=CassetteError)
F = TypeVar("F", bound=Callable[..., Any])
A = TypeVar("A", bound=Callable[..., Awaitable[Any]])

_PASSED_THROUGH = (("openai", "OpenAIError"), ("anthropic", "AnthropicError"))  # re-raised untouched
_RETRY_EVERYTHING = (("groq._base_client", ("SyncAPIClient", "AsyncAPIClient")),)
_SLEEP = "_sleep_for_retry"

_classes: dict[tuple[type, tuple[type, ...]], type] = {}
_lock = threading.Lock()


def as_sdk_error(error: E) -> E:
    """``error`` itself, its class now also the base error of the SDKs loaded; retry sleeps guarded."""
    _guard_retry_sleeps()
    plain: type[CassetteError] = getattr(type(error), "_cassette_plain", type(error))
    bases = _sdk_bases()
    if bases:
        error.__class__ = _combined(plain, bases)
    return error


def sdk_proof(fn: F) -> F:
    """``fn``, its `CassetteError` exceptions passed through `as_sdk_error`."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CassetteError as exc:
            as_sdk_error(exc)
            raise

    return cast(F, wrapper)


def sdk_proof_async(fn: A) -> A:
    """The coroutine-function twin of `sdk_proof`."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except CassetteError as exc:
            as_sdk_error(exc)
            raise

    return cast(A, wrapper)


def _sdk_bases() -> tuple[type, ...]:
    found = (getattr(sys.modules.get(module), name, None) for module, name in _PASSED_THROUGH)
    return tuple(cls for cls in found if isinstance(cls, type) and issubclass(cls, Exception))


def _combined(plain: type[CassetteError], bases: tuple[type, ...]) -> type:
    """``plain`` (listed first: its name, message and attributes win) mixed with the SDK bases."""
    with _lock:
        made = _classes.get((plain, bases))
        if made is None:
            namespace = {"_cassette_plain": plain, "__module__": plain.__module__, "__reduce__": _reduce}
            made = _classes[(plain, bases)] = type(plain.__name__, (plain, *bases), namespace)
        return made


def _reduce(self: BaseException) -> tuple[Any, ...]:
    # A class made at run time cannot be pickled by name (xdist, multiprocessing): pickle the plain one.
    return (_rebuild, (getattr(type(self), "_cassette_plain", type(self)), self.args, dict(self.__dict__)))


def _rebuild(cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> BaseException:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


def _guard_retry_sleeps() -> None:
    for module_name, class_names in _RETRY_EVERYTHING:
        module = sys.modules.get(module_name)
        for name in class_names if module is not None else ():
            cls = getattr(module, name, None)
            original = getattr(cls, _SLEEP, None) if isinstance(cls, type) else None
            if original is not None and not getattr(original, "_cassette_guard", False):
                setattr(cls, _SLEEP, _guarded(original))


def _reraise_ours() -> None:
    # The retry sleep runs inside the SDK's `except Exception` block: the error being handled is the
    # one it is about to retry.
    handled = sys.exc_info()[1]
    if isinstance(handled, CassetteError):
        raise handled


def _guarded(original: Callable[..., Any]) -> Callable[..., Any]:
    if inspect.iscoroutinefunction(original):

        @functools.wraps(original)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            _reraise_ours()
            return await original(*args, **kwargs)

        guarded_async._cassette_guard = True  # type: ignore[attr-defined]
        return guarded_async

    @functools.wraps(original)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        _reraise_ours()
        return original(*args, **kwargs)

    guarded._cassette_guard = True  # type: ignore[attr-defined]
    return guarded
