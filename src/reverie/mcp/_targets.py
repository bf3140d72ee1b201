"""Where an MCP server is: a command to start (stdio) or a URL (streamable HTTP).

Plain data, checked when made, so that ``reverie.mcp.stdio(...)`` and ``reverie.mcp.http(...)``
fail at once on a mistake and need not import the SDK. Connecting is
``reverie.mcp._connection``'s job.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from reverie._errors import UserError
from reverie._http.headers import check_headers
from reverie._secrets import register_secret

_SECRET_HEADER_WORDS = ("authorization", "cookie", "key", "token", "secret", "password")


@dataclass(frozen=True, slots=True, kw_only=True)
class StdioTarget:
    """A server started as a subprocess, spoken to over its stdin and stdout."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict[str, str])
    """Added to the current environment (read when the server starts)."""
    cwd: str | None = None

    def environment(self) -> dict[str, str]:
        """The server's environment: this process's, extended by ``env``."""
        return {**os.environ, **self.env}

    def describe(self) -> str:
        """A short name: the command's file name and its arguments."""
        return " ".join([Path(self.command).name, *self.args])


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpTarget:
    """A server reached over streamable HTTP at ``url``."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict[str, str])

    def __repr__(self) -> str:
        return f"HttpTarget(url={self.describe()!r})"  # the headers may hold credentials

    def describe(self) -> str:
        """The URL without credentials, query or fragment."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"  # an IPv6 address
        port = f":{parts.port}" if parts.port is not None else ""
        return f"{parts.scheme}://{host}{port}{parts.path}"


def stdio_target(
    command: str, args: Sequence[str], env: Mapping[str, str] | None, cwd: str | os.PathLike[str] | None
) -> StdioTarget:
    """A checked ``StdioTarget``.

    Raises:
        UserError: a value of the wrong type (``args`` given as one string, say).
    """
    if not isinstance(command, str) or not command:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"reverie.mcp.stdio: command must be a non-empty string; got {command!r}")
    if isinstance(args, str) or not all(isinstance(item, str) for item in args):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(
            f"reverie.mcp.stdio: args must be a list of strings, e.g. ['-m', 'server']; got {args!r}"
        )
    variables = dict(env or {})
    for name, value in variables.items():
        if not isinstance(name, str) or not isinstance(value, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise UserError(f"reverie.mcp.stdio: env must map strings to strings; got {name!r}")
    return StdioTarget(
        command=command, args=tuple(args), env=variables, cwd=None if cwd is None else os.fspath(cwd)
    )


def http_target(url: str, headers: Mapping[str, str] | None) -> HttpTarget:
    """A checked ``HttpTarget``; header values that may be credentials are kept out of messages.

    Raises:
        UserError: the URL is not http(s), or a header cannot be sent.
    """
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise UserError(f"reverie.mcp.http: url must be an http:// or https:// URL; got {url!r}")
    check_headers(headers, "reverie.mcp.http(headers=...)")
    values = dict(headers or {})
    for name, value in values.items():
        if any(word in name.lower() for word in _SECRET_HEADER_WORDS):
            register_secret(value)
            register_secret(value.rpartition(" ")[2])  # the token of "Bearer <token>" on its own
    return HttpTarget(url=url, headers=values)
