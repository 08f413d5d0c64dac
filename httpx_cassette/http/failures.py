"""A recorded transport failure raised again as the very class the library raised live, where it can be.

A file names a failure by its class's own name (`httpx_cassette.model.cassette.TransportFailure.type`:
``ReadTimeout``, ``ClientConnectorError``). A shell gives that name to `library_error` with its
library's exceptions module (``requests.exceptions``, ``aiohttp.client_exceptions``) and base error:
the class is taken only when that module defines it under that name and it derives from the base
error, so ``except ReadTimeout`` catches on replay what it caught live. The file names no module, so
nothing is imported because a file says so, and no other class of the library (nor of anything it
imports) can be picked and called. Nor does it name the library that recorded it: a failure recorded
through another library is raised as the replaying library's class of the same name when it has one
(httpx's ``ReadTimeout`` through requests: ``requests.exceptions.ReadTimeout``). A name the library
does not have (httpx's ``ConnectError`` through requests), or a class that cannot be built from what
the file holds, gives None: the shell then raises its broader class, as files recorded before this
replay.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

__all__ = ["library_error"]


def library_error(
    module: ModuleType, base: type[Exception], name: str, *args: Any, **kwargs: Any
) -> Exception | None:
    """``module``'s exception class called ``name`` built with ``args`` and ``kwargs``, when ``module``
    itself holds a class of that name deriving from ``base``; None when it does not, or when that class
    refuses the arguments (its message cannot be read either)."""
    found = vars(module).get(name)  # the module's own names: no module-level __getattr__ runs
    if not (isinstance(found, type) and issubclass(found, base)):
        return None
    try:
        error: Exception = found(*args, **kwargs)
        str(error)  # a class built with the wrong arguments may fail only when its message is read
    except Exception:  # its constructor wants more than a file holds (a pool, a fingerprint...)
        return None
    return error
