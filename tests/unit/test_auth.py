"""Credentials as ``httpx2.Auth`` flows (``reverie._http.auth``), driven by real httpx2 clients
over a ``MockTransport``: static headers, cached and refreshed tokens, request signing."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping

import httpx2
import pytest

from reverie import UserError
from reverie._http.auth import HeaderAuth, Secret, SigningAuth, Token, TokenAuth

URL = "https://api.example/v1/chat?api-version=2024-10-21"


class Server:
    """Records each request's authorization header; answers 401 to the tokens in ``reject``."""

    def __init__(self, reject: set[str] | None = None) -> None:
        self.reject = reject or set()
        self.seen: list[str | None] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        token = request.headers.get("authorization")
        self.seen.append(token)
        if token in self.reject:
            return httpx2.Response(401, json={"error": "expired"})
        return httpx2.Response(200, json={"ok": True})


def post(auth: httpx2.Auth, server: Server, **headers: str) -> httpx2.Response:
    with httpx2.Client(transport=httpx2.MockTransport(server)) as client:
        return client.post(URL, content=b"{}", headers=headers, auth=auth)


async def post_async(auth: httpx2.Auth, server: Server) -> httpx2.Response:
    async with httpx2.AsyncClient(transport=httpx2.MockTransport(server)) as client:
        return await client.post(URL, content=b"{}", auth=auth)


class Tokens:
    """A sync token callable handing out ``t1``, ``t2``, ... with an optional lifetime."""

    def __init__(self, clock: Callable[[], float] | None = None, lifetime: float | None = None) -> None:
        self.calls = 0
        self.clock = clock
        self.lifetime = lifetime

    def __call__(self) -> str | Token:
        self.calls += 1
        value = f"t{self.calls}"
        if self.clock is None or self.lifetime is None:
            return value
        return Token(value, expires_at=self.clock() + self.lifetime)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


# --- the secret holder and static headers ---------------------------------------------------


def test_secret_hides_its_value_and_has_no_dict() -> None:
    secret = Secret("sk-hidden")
    assert secret.reveal() == "sk-hidden"
    assert "sk-hidden" not in repr(secret) and "sk-hidden" not in str(secret)
    with pytest.raises(TypeError):
        vars(secret)


def test_header_auth_sets_its_headers_on_each_request() -> None:
    server = Server()
    auth = HeaderAuth({"Authorization": "Bearer k"})
    post(auth, server)
    post(auth, server)
    assert server.seen == ["Bearer k", "Bearer k"]
    assert auth.header_names == frozenset({"authorization"})


def test_header_auth_leaves_a_header_the_request_already_has() -> None:
    server = Server()
    post(HeaderAuth({"authorization": "Bearer provider"}), server, authorization="Bearer per-call")
    assert server.seen == ["Bearer per-call"]


def test_header_auth_applies_to_plain_mappings_too() -> None:
    headers = {"x-api-key": "explicit"}
    HeaderAuth({"X-Api-Key": "k", "x-other": "o"}).apply(headers)
    assert headers == {"x-api-key": "explicit", "x-other": "o"}


# --- tokens -------------------------------------------------------------------------------------


def test_a_token_without_expiry_is_reused_until_the_server_rejects_it() -> None:
    tokens, server = Tokens(), Server()
    auth = TokenAuth(tokens)
    for _ in range(3):
        assert post(auth, server).status_code == 200
    assert tokens.calls == 1
    assert server.seen == ["Bearer t1"] * 3


def test_a_401_refetches_once_and_resends() -> None:
    tokens, server = Tokens(), Server(reject={"Bearer t1"})
    auth = TokenAuth(tokens)
    assert post(auth, server).status_code == 200
    assert server.seen == ["Bearer t1", "Bearer t2"]
    assert post(auth, server).status_code == 200  # the new token is cached
    assert server.seen[-1] == "Bearer t2" and tokens.calls == 2


def test_a_second_401_is_returned_not_retried_forever() -> None:
    tokens, server = Tokens(), Server(reject={"Bearer t1", "Bearer t2", "Bearer t3"})
    assert post(TokenAuth(tokens), server).status_code == 401
    assert server.seen == ["Bearer t1", "Bearer t2"]


def test_an_expiring_token_is_refetched_shortly_before_it_expires() -> None:
    clock = Clock()
    tokens, server = Tokens(clock, lifetime=3600), Server()
    auth = TokenAuth(tokens, clock=clock)
    post(auth, server)
    clock.now += 3600 - 61  # still more than the 60 s margin left
    post(auth, server)
    assert tokens.calls == 1
    clock.now += 2  # inside the margin
    post(auth, server)
    assert tokens.calls == 2
    assert server.seen == ["Bearer t1", "Bearer t1", "Bearer t2"]


def test_a_short_lived_token_is_kept_for_half_its_life() -> None:
    clock = Clock()
    tokens, server = Tokens(clock, lifetime=30), Server()
    auth = TokenAuth(tokens, clock=clock)
    post(auth, server)
    clock.now += 14
    post(auth, server)
    assert tokens.calls == 1
    clock.now += 1
    post(auth, server)
    assert tokens.calls == 2


def test_header_and_scheme_are_configurable() -> None:
    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("api-key"))
        return httpx2.Response(200)

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        client.post(URL, content=b"{}", auth=TokenAuth(lambda: "raw", header="Api-Key", scheme=None))
    assert seen == ["raw"]


@pytest.mark.parametrize("bad", [42, "", None])
def test_a_token_callable_returning_garbage_is_a_user_error(bad: object) -> None:
    with pytest.raises(UserError, match="token"):
        post(TokenAuth(lambda: bad), Server())  # type: ignore[arg-type, return-value]


def test_concurrent_sync_requests_share_one_fetch() -> None:
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow_fetch() -> str:
        calls.append(1)
        started.set()
        release.wait(5)
        return "shared"

    auth = TokenAuth(slow_fetch)
    server = Server()
    threads = [threading.Thread(target=post, args=(auth, server)) for _ in range(4)]
    for thread in threads:
        thread.start()
    started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert calls == [1]
    assert server.seen == ["Bearer shared"] * 4


async def async_fetch() -> str:
    return "async-token"


def test_an_async_callable_from_the_sync_api_is_a_clear_user_error() -> None:
    server = Server()
    with pytest.raises(UserError, match="async API"):
        post(TokenAuth(async_fetch), server)
    assert server.seen == []  # nothing was sent without credentials


def test_an_object_with_an_async_call_from_the_sync_api_is_a_user_error_without_warnings() -> None:
    class Fetcher:
        async def __call__(self) -> str:
            return "x"

    # pytest turns warnings into errors: an un-awaited coroutine would fail this test.
    with pytest.raises(UserError, match="async API"):
        post(TokenAuth(Fetcher()), Server())


@pytest.mark.anyio
async def test_an_async_callable_works_from_the_async_api() -> None:
    server = Server()
    auth = TokenAuth(async_fetch)
    assert (await post_async(auth, server)).status_code == 200
    assert (await post_async(auth, server)).status_code == 200
    assert server.seen == ["Bearer async-token"] * 2


@pytest.mark.anyio
async def test_a_sync_callable_works_from_the_async_api_and_refreshes_on_401() -> None:
    tokens, server = Tokens(), Server(reject={"Bearer t1"})
    auth = TokenAuth(tokens)
    assert (await post_async(auth, server)).status_code == 200
    assert server.seen == ["Bearer t1", "Bearer t2"]


@pytest.mark.anyio
async def test_an_async_callable_refreshes_on_401() -> None:
    calls: list[int] = []

    async def fetch() -> Token:
        calls.append(1)
        return Token(f"a{len(calls)}", expires_at=None)

    server = Server(reject={"Bearer a1"})
    assert (await post_async(TokenAuth(fetch), server)).status_code == 200
    assert server.seen == ["Bearer a1", "Bearer a2"]


# --- signing ----------------------------------------------------------------------------------


def test_signing_sees_the_final_url_headers_and_body() -> None:
    signed: list[tuple[str, bytes, str | None]] = []

    def sign(request: httpx2.Request) -> None:
        signed.append((str(request.url), request.content, request.headers.get("content-type")))
        request.headers["x-signature"] = f"sig({len(request.content)})"

    seen: list[str | None] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers.get("x-signature"))
        return httpx2.Response(200)

    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        client.post(
            URL, content=b'{"a":1}', headers={"content-type": "application/json"}, auth=SigningAuth(sign)
        )
    assert signed == [(URL, b'{"a":1}', "application/json")]
    assert seen == ["sig(7)"]


def test_signing_can_be_a_subclass() -> None:
    class Signer(SigningAuth):
        def sign(self, request: httpx2.Request) -> None:
            request.headers["authorization"] = "signed"

    server = Server()
    post(Signer(), server)
    assert server.seen == ["signed"]


def test_signing_without_a_signer_says_what_to_do() -> None:
    with pytest.raises(NotImplementedError, match="sign="):
        post(SigningAuth(), Server())


# --- refused credentials beyond 401, header builders, per-call credentials ----------------------


def refusing(status_code: int, body: str, accept: str) -> Callable[[httpx2.Request], httpx2.Response]:
    """A handler answering ``status_code`` with ``body`` unless the ``x-key`` header is ``accept``."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.headers.get("x-key") == accept:
            return httpx2.Response(200, json={"ok": True})
        return httpx2.Response(status_code, content=body.encode())

    return handler


def send(auth: httpx2.Auth, handler: Callable[[httpx2.Request], httpx2.Response]) -> httpx2.Response:
    with httpx2.Client(transport=httpx2.MockTransport(handler)) as client:
        return client.post(URL, content=b"{}", auth=auth)


def key_headers(key: str) -> dict[str, str]:
    return {"X-Key": key}


def test_an_answer_flagged_by_rejects_refetches_once() -> None:
    tokens = Tokens()
    seen: list[tuple[int, str, str]] = []

    def rejects(status_code: int, headers: Mapping[str, str], body: str) -> bool:
        seen.append((status_code, headers.get("content-type", ""), body))
        return "bad key" in body

    auth = TokenAuth(tokens, headers=key_headers, rejects=rejects)
    response = send(auth, refusing(400, "bad key", accept="t2"))
    assert response.status_code == 200
    assert tokens.calls == 2
    assert seen == [(400, "", "bad key")]


def test_an_answer_rejects_does_not_flag_is_returned_with_its_body() -> None:
    tokens = Tokens()
    auth = TokenAuth(tokens, headers=key_headers, rejects=lambda status, headers, body: False)
    response = send(auth, refusing(400, "invalid request", accept="nobody"))
    assert response.status_code == 400
    assert response.text == "invalid request"  # read here, still readable by the caller
    assert tokens.calls == 1


def test_without_rejects_only_a_401_refetches() -> None:
    tokens = Tokens()
    assert (
        send(TokenAuth(tokens, headers=key_headers), refusing(403, "bad key", accept="t2")).status_code == 403
    )
    assert tokens.calls == 1


@pytest.mark.parametrize("status_code", [200, 429, 500])
def test_rejects_is_asked_about_4xx_answers_only(status_code: int) -> None:
    asked: list[int] = []

    def rejects(code: int, headers: Mapping[str, str], body: str) -> bool:
        asked.append(code)
        return True

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status_code, content=b"{}")

    send(TokenAuth(Tokens(), rejects=rejects), handler)
    assert asked == ([429] if status_code == 429 else [])


def test_a_huge_error_body_is_not_read_to_look_for_a_refused_key() -> None:
    asked: list[int] = []

    def rejects(code: int, headers: Mapping[str, str], body: str) -> bool:
        asked.append(code)
        return True

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(400, content=b"x" * (1024 * 1024 + 1))

    assert send(TokenAuth(Tokens(), rejects=rejects), handler).status_code == 400
    assert asked == []


def test_headers_builds_every_credential_header() -> None:
    seen: list[tuple[str | None, str | None]] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append((request.headers.get("x-key"), request.headers.get("x-key-id")))
        return httpx2.Response(200)

    send(TokenAuth(lambda: "secret", headers=lambda key: {"X-Key": key, "X-Key-Id": "id-1"}), handler)
    assert seen == [("secret", "id-1")]


def test_keep_request_credentials_lets_a_per_call_header_win_without_fetching() -> None:
    tokens, server = Tokens(), Server()
    auth = TokenAuth(tokens, keep_request_credentials=True)
    post(auth, server, authorization="Bearer per-call")
    post(auth, server)
    assert server.seen == ["Bearer per-call", "Bearer t1"]
    assert tokens.calls == 1
