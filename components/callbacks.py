"""The page's callbacks, declared by the component modules and registered on each app.

Dash's module-level ``callback`` and ``clientside_callback`` keep a process-wide list
that the first app made takes whole and empties: a second app in the same process (the
tests' in-process servers, a worker that builds its app again) would serve a page whose
buttons do nothing. Declared here instead, every app gets all of them (``register``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import dash

F = TypeVar("F", bound=Callable[..., Any])

_clientside: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
_server: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []


def clientside_callback(*args: Any, **kwargs: Any) -> None:
    """As ``dash.clientside_callback``, for every app made after the declaration."""
    _clientside.append((args, kwargs))


def callback(*args: Any, **kwargs: Any) -> Callable[[F], F]:
    """As ``dash.callback``, for every app made after the declaration."""
    def declare(function: F) -> F:
        _server.append((function, args, kwargs))
        return function
    return declare


def register(app: dash.Dash) -> None:
    """Every callback declared so far, on ``app``."""
    for args, kwargs in _clientside:
        app.clientside_callback(*args, **kwargs)
    for function, args, kwargs in _server:
        app.callback(*args, **kwargs)(function)
