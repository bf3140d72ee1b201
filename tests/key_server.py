"""A loopback fault server that checks API keys: one key for the first requests, then another.

``KeyServer`` is ``tests.faults.FaultServer`` (OpenAI, Anthropic and Gemini shapes, tool calls
in the OpenAI shape) with a credential check in front: requests ``1..switch_after`` must carry
``first``, later ones ``then``. A request with another key gets ``rejection`` (default: the
shape's own 401 answer, e.g. OpenAI's ``invalid_api_key``); it does not consume the script.
The key is read from whichever credential header the provider sends (``authorization:
Bearer``, ``x-api-key``, ``x-goog-api-key``, ``api-key``) and recorded in ``keys``.

``Keys`` is the other side: a key callable (``api_key=``) handing out keys in turn.
"""

from __future__ import annotations

from typing import Any

from tests.faults import Fault, FaultServer, status

_KEY_HEADERS = ("x-api-key", "x-goog-api-key", "api-key")


class Keys:
    """A sync key callable handing out the given keys in turn (the last one again when out)."""

    def __init__(self, *keys: str) -> None:
        self.keys = keys
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        return self.keys[min(self.calls, len(self.keys)) - 1]


class KeyServer(FaultServer):
    """A ``FaultServer`` that accepts ``first`` for ``switch_after`` requests, then only ``then``.

    Args:
        first: The key accepted by the first ``switch_after`` requests.
        then: The only key accepted afterwards.
        switch_after: How many requests (accepted or not) ``first`` is good for.
        rejection: The answer to a request with the wrong key.
    """

    def __init__(
        self,
        *,
        first: str = "k1",
        then: str = "k2",
        switch_after: int = 1,
        rejection: Fault | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.first = first
        self.then = then
        self.switch_after = switch_after
        self.rejection = rejection if rejection is not None else status(401)
        self.keys: list[str | None] = []
        """The key of every provider request, in arrival order."""

    def _handle(self, conn: Any, req: Any) -> bool:
        headers: dict[str, str] = req.headers
        key = credential(headers)
        with self._lock:
            self.keys.append(key)
            accepted = self.first if len(self.keys) <= self.switch_after else self.then
            if key != accepted:
                self._script.appendleft(self.rejection)
        return super()._handle(conn, req)


def credential(headers: dict[str, str]) -> str | None:
    """The key a request carries, in whichever header its provider uses."""
    authorization = headers.get("authorization")
    if authorization is not None:
        return authorization.removeprefix("Bearer ")
    for name in _KEY_HEADERS:
        if name in headers:
            return headers[name]
    return None
