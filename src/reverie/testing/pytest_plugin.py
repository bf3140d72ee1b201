"""pytest plugin: the ``cassette`` marker, fixture and ``--record-cassettes`` option; instant retry waits.

Usage::

    @pytest.mark.cassette("cassettes/simple.yaml")  # relative to the test file's directory
    def test_simple(cassette: Cassette) -> None:
        client = httpx2.Client(transport=cassette)
        ...

The marker also takes ``chunk_size=`` (default 7) and ``match=`` (``"strict"``, the default,
or ``"lenient"``), passed on to :class:`~reverie.testing.cassette.Cassette`.

The ``cassette`` fixture loads the marked cassette for replay and yields the
:class:`~reverie.testing.cassette.Cassette`. When the test body has passed, the plugin
checks that every recorded interaction was used and that no request went unmatched, and
fails the test with the :class:`~reverie.testing.cassette.CassetteError` message otherwise.

With ``--record-cassettes`` the fixture yields a cassette in record mode instead: requests
go to the network and, if the test passes, the conversation is written to the marked path
(a failing test leaves an existing recording untouched).

Retry waits are instant in every test: the ``retry_waits`` fixture (autouse) records the
delays a run asks for (``RetryPolicy`` backoff, ``Retry-After``) instead of sleeping, so a
recorded 429 does not cost seconds. Mark a test ``@pytest.mark.real_retry_waits`` to sleep.

The plugin is registered through the ``pytest11`` entry point
``reverie = reverie.testing.pytest_plugin``; without the installed package, enable it with
``-p reverie.testing.pytest_plugin``.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from reverie import _concurrency
from reverie._cassette.matching import MATCH_MODES, MatchMode
from reverie.testing.cassette import Cassette, CassetteError

__all__ = ["cassette", "pytest_addoption", "pytest_configure", "pytest_runtest_call", "retry_waits"]

_CASSETTE_KEY = pytest.StashKey[Cassette]()
_PASSED_KEY = pytest.StashKey[bool]()
_RECORD_OPTION = "reverie_record_cassettes"
_REAL_WAITS_MARKER = "real_retry_waits"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the ``--record-cassettes`` command-line option.

    Args:
        parser: pytest's option parser.
    """
    group = parser.getgroup("reverie", "reverie cassettes")
    group.addoption(
        "--record-cassettes",
        action="store_true",
        default=False,
        dest=_RECORD_OPTION,
        help="record the cassettes of @pytest.mark.cassette tests against the real network "
        "(overwrites the files of passing tests) instead of replaying them",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``cassette`` marker (so that ``--strict-markers`` accepts it).

    Args:
        config: The pytest configuration.
    """
    config.addinivalue_line(
        "markers",
        "cassette(path, *, chunk_size=7, match='strict'): replay the go-vcr v2 YAML cassette at path "
        "(relative to the test file's directory) through the `cassette` fixture; match='lenient' "
        "compares method and URL only and serves interactions in recorded order",
    )
    config.addinivalue_line(
        "markers",
        f"{_REAL_WAITS_MARKER}: really sleep for retry delays (reverie makes them instant in tests)",
    )


@pytest.fixture(autouse=True)
def retry_waits(request: pytest.FixtureRequest) -> Iterator[list[float]]:
    """The retry delays runs asked for during the test, recorded instead of slept.

    Autouse: no test waits for a retry unless it is marked ``real_retry_waits`` (then the
    delays are slept and the list stays empty).

    Args:
        request: The fixture request.

    Yields:
        The delays in seconds, in the order they were asked for.
    """
    waits: list[float] = []
    if request.node.get_closest_marker(_REAL_WAITS_MARKER) is not None:
        yield waits
        return

    def record(seconds: float) -> None:
        waits.append(seconds)

    async def record_async(seconds: float) -> None:
        waits.append(seconds)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_concurrency, "sleep", record)
        patch.setattr(_concurrency, "async_sleep", record_async)
        yield waits


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a passing test, fail it if its replayed cassette was not fully used.

    Args:
        item: The test item.

    Yields:
        Control to the test call (a failing test's exception propagates unchanged).
    """
    yield
    item.stash[_PASSED_KEY] = True
    cassette = item.stash.get(_CASSETTE_KEY, None)
    if cassette is not None and cassette.mode == "replay":
        try:
            cassette.assert_all_used()
        except CassetteError as exc:
            pytest.fail(str(exc), pytrace=False)


def _marked_options(request: pytest.FixtureRequest) -> tuple[Path, int | None, MatchMode]:
    marker = request.node.get_closest_marker("cassette")
    if marker is None:
        pytest.fail(
            f"{request.node.nodeid}: the `cassette` fixture needs a "
            '@pytest.mark.cassette("path/to/cassette.yaml") marker on the test',
            pytrace=False,
        )
    raw: object = marker.args[0] if marker.args else marker.kwargs.get("path")
    if not isinstance(raw, (str, Path)):
        pytest.fail(
            f"{request.node.nodeid}: @pytest.mark.cassette needs the cassette path as its first "
            f"argument, got {raw!r}",
            pytrace=False,
        )
    chunk_size: object = marker.kwargs.get("chunk_size", 7)
    if chunk_size is not None and not isinstance(chunk_size, int):
        pytest.fail(f"{request.node.nodeid}: cassette chunk_size must be an int or None", pytrace=False)
    match: object = marker.kwargs.get("match", "strict")
    if match not in MATCH_MODES:
        pytest.fail(
            f"{request.node.nodeid}: cassette match must be 'strict' or 'lenient', got {match!r}",
            pytrace=False,
        )
    path = Path(raw)
    if not path.is_absolute():
        path = request.path.parent / path
    return path, chunk_size, match


@pytest.fixture
def cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """The test's marked cassette: replayed, or recorded with ``--record-cassettes``.

    Args:
        request: The fixture request.

    Yields:
        The :class:`~reverie.testing.cassette.Cassette` to use as an httpx2 transport.
    """
    path, chunk_size, match = _marked_options(request)
    record = bool(request.config.getoption(_RECORD_OPTION, default=False))
    try:
        tape = Cassette(path, mode="record" if record else "replay", chunk_size=chunk_size, match=match)
    except CassetteError as exc:
        pytest.fail(str(exc), pytrace=False)
    request.node.stash[_CASSETTE_KEY] = tape
    try:
        yield tape
    finally:
        del request.node.stash[_CASSETTE_KEY]
        if record:
            if request.node.stash.get(_PASSED_KEY, False):
                tape.close()
            else:
                tape._close_real()
