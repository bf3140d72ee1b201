"""Wire forms reused across an agent's requests: each message and tool is encoded once.

Every step of an agent run sends the whole conversation and every tool again, though only
the last step's messages are new. Codecs therefore encode messages and tools one at a time
through ``each_message`` and ``each_tool``: given a ``WireCache`` (``Call.wire_cache``, set
by the run), an item encoded for an earlier request is reused, so a step's encoding costs
what is new in it. Without a cache (a direct model call) everything is encoded, as before.

What is kept is one item's own wire form, under a *namespace* that names the encoder and
every setting besides the item that the encoder reads (a codec hook, whether cache markers
are placed, a reasoning model's system role...). Where a provider's wire form depends on
neighbours (Anthropic and Gemini merge consecutive turns of one role, system messages are
hoisted), the codec caches each message's own blocks and merges them again per request,
which is cheap. Cached forms are shared between requests: a codec never mutates them.
Warnings an item's encoding gave are kept with it and given again on every reuse.

Items are found by identity. Whether the item is still what was encoded is decided by the
store's ``check`` (see ``WireStore``): tool definitions are frozen and a tool set is rebuilt
when its tools change, so tools are never checked; messages are mutable dataclasses, so the
run decides how much it trusts them (see ``reverie._run.planning``).

A kept wire form that is a dict (or a list of dicts: a message's entries) is stored as a
``WireForm``, a dict that also keeps its JSON text once the body is encoded
(``encode_body``), so a request's body is written from kept texts plus what is new: a long
history is not encoded again on every step. What a store keeps is read-only, nested values
included: the text must stay what the dict holds.

An agent's runs share one ``SharedWireStore`` for messages: a conversation continued run after
run (``messages=result.messages``) sends its history again each time, and each message is
encoded once for as long as it lives (the store holds it weakly). A message seen first in a
run, or edited since, is checked with ``message_state`` once per run (once per step with a
``prepare_step`` hook); messages holding files are kept for their run only (see
``RunMessages``), so that their encoded data does not outlive it.

This module knows no provider's wire format and does no I/O.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import fields
from operator import attrgetter
from types import MappingProxyType
from typing import Any, TypeAlias, TypeVar, cast

from reverie import _json
from reverie._content import (
    CallWarning,
    FilePart,
    Message,
    ReasoningPart,
    SourcePart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)

ItemT = TypeVar("ItemT")
# Aliases made once: ``cast(tuple[Any, ...], value)`` would build the generic alias on every call.
_AnyTuple: TypeAlias = tuple[Any, ...]
_AnyList: TypeAlias = list[Any]
_AnyDict: TypeAlias = dict[Any, Any]
WireT = TypeVar("WireT")

_MAX_NAMESPACES = 8
"""Namespaces a store keeps (a run switching models or settings often starts afresh)."""
_SPARE_ENTRIES = 64
"""Entries a namespace may hold beyond twice the items of the latest request before pruning."""


class WireStore:
    """Wire forms by namespace and item identity, pruned to the items of recent requests.

    Args:
        check: Called with an item, returns a value that equals the one it returned when the
            item was encoded as long as the item is unchanged (``message_state``). ``None``
            trusts identity alone: the item is never edited while the store lives.
    """

    __slots__ = ("_check", "_namespaces")

    def __init__(self, check: Callable[[Any], object] | None = None) -> None:
        self._check = check
        # namespace -> id(item) -> (item, state when encoded, wire form, warnings). The entry
        # holds the item, so its id cannot be reused by another object while it is kept.
        self._namespaces: dict[Hashable, dict[int, tuple[Any, object, Any, tuple[CallWarning, ...]]]] = {}

    def encode_each(
        self,
        namespace: Hashable,
        items: Sequence[ItemT],
        encode: Callable[[ItemT, list[CallWarning]], WireT],
        warnings: list[CallWarning],
    ) -> list[WireT]:
        """The wire form of each of ``items``: kept ones reused, the others encoded and kept.

        ``encode(item, warnings)`` appends the item's warnings to the list it is given; they
        are added to ``warnings`` now and whenever the wire form is reused.
        """
        namespaces = self._namespaces
        entries = namespaces.get(namespace)
        if entries is None:
            if len(namespaces) >= _MAX_NAMESPACES:
                namespaces.clear()
            entries = namespaces[namespace] = {}
        check = self._check
        freeze = _snapshot if check is message_state else _frozen
        encoded: list[WireT] = []
        for item in items:
            entry = entries.get(id(item))
            state = None if check is None else check(item)
            if entry is None or (check is not None and entry[1] != state):
                produced: list[CallWarning] = []
                wire = _kept(encode(item, produced))
                kept = None if state is None else freeze(state)
                entry = entries[id(item)] = (item, kept, wire, tuple(produced))
            encoded.append(entry[2])
            if entry[3]:
                warnings.extend(entry[3])
        if len(entries) > 2 * len(items) + _SPARE_ENTRIES:
            # Items no request sends any more (a history prepare_step trimmed, tools of an
            # earlier set) are let go; only this request's are kept.
            namespaces[namespace] = {id(item): entries[id(item)] for item in items}
        return encoded


class _Reference(weakref.ref[Any]):
    """A weak reference that knows the key of its entry."""

    __slots__ = ("key",)
    key: int


class _SharedEntry:
    """A message's kept wire form in a ``SharedWireStore``, and what decides its reuse."""

    __slots__ = ("reference", "state", "token", "warnings", "wire")

    def __init__(
        self, reference: _Reference, state: object, wire: Any, warnings: tuple[CallWarning, ...]
    ) -> None:
        self.reference = reference
        self.state = state
        self.wire = wire
        self.warnings = warnings
        self.token: object = None
        """The run (or step) that last checked the message against ``state``."""


class SharedWireStore:
    """Messages' wire forms shared by an agent's runs, each kept while its message lives.

    A message is found by identity and reused while ``message_state`` says it is unchanged;
    a run checks each message once (``RunMessages.token``). Entries hold their messages weakly:
    a message no longer referenced anywhere takes its entry with it. Messages holding files
    and items that cannot be weakly referenced are left to the run's own store.
    """

    __slots__ = ("_namespaces",)

    def __init__(self) -> None:
        # namespace -> (id(message) -> entry, the callback that drops a dead message's entry)
        self._namespaces: dict[Hashable, tuple[dict[int, _SharedEntry], Callable[[Any], None]]] = {}

    def _table(self, namespace: Hashable) -> tuple[dict[int, _SharedEntry], Callable[[Any], None]]:
        found = self._namespaces.get(namespace)
        if found is not None:
            return found
        table: dict[int, _SharedEntry] = {}

        def forget(reference: _Reference) -> None:
            entry = table.get(reference.key)
            if entry is not None and entry.reference is reference:
                del table[reference.key]

        if len(self._namespaces) >= _MAX_NAMESPACES:
            self._namespaces.clear()
        found = self._namespaces[namespace] = (table, forget)
        return found

    def encode_each(
        self,
        namespace: Hashable,
        items: Sequence[Message],
        encode: Callable[[Message, list[CallWarning]], WireT],
        warnings: list[CallWarning],
        *,
        token: object,
        local: WireStore,
    ) -> list[WireT]:
        """The wire form of each message, as ``WireStore.encode_each``.

        An entry last checked under ``token`` is trusted without a check; ``local`` takes the
        messages kept for the run only.
        """
        table, forget = self._table(namespace)
        encoded: list[WireT] = []
        get = table.get
        # The loop runs for every message of every request: the hit path is kept short.
        for item in items:
            entry = get(id(item))
            if entry is None or entry.reference() is not item:
                wire = self._new(table, forget, item, encode, token, local, namespace, warnings)
                encoded.append(wire)
                continue
            if entry.token is not token:
                state = message_state(item)
                if entry.state != state:
                    if _holds_file(item):  # edited to carry a file: the run's alone now
                        del table[id(item)]
                        encoded += local.encode_each(namespace, (item,), encode, warnings)
                        continue
                    entry = table[id(item)] = _shared(item, encode, state, entry.reference)
                entry.token = token
            encoded.append(entry.wire)
            if entry.warnings:
                warnings.extend(entry.warnings)
        return encoded

    @staticmethod
    def _new(
        table: dict[int, _SharedEntry],
        forget: Callable[[Any], None],
        item: Message,
        encode: Callable[[Message, list[CallWarning]], WireT],
        token: object,
        local: WireStore,
        namespace: Hashable,
        warnings: list[CallWarning],
    ) -> WireT:
        """A message not kept yet: encoded, and kept while it lives (or for the run only)."""
        state = message_state(item)
        # A plain message's state is a tuple of three immutable values: it holds no file and
        # its snapshot is itself.
        if type(cast(_AnyTuple, state)[2]) is list:
            if _holds_file(item):
                return local.encode_each(namespace, (item,), encode, warnings)[0]
            state = _snapshot(state)
        try:
            reference = _Reference(item, forget)
        except TypeError:  # not weakly referenceable: kept for the run only
            return local.encode_each(namespace, (item,), encode, warnings)[0]
        reference.key = id(item)
        count = len(warnings)
        wire = _kept(encode(item, warnings))
        produced = () if len(warnings) == count else tuple(warnings[count:])
        entry = table[id(item)] = _SharedEntry(reference, state, wire, produced)
        entry.token = token
        return wire


def _shared(
    item: Message, encode: Callable[[Message, list[CallWarning]], Any], state: object, reference: _Reference
) -> _SharedEntry:
    produced: list[CallWarning] = []
    wire = _kept(encode(item, produced))
    return _SharedEntry(reference, _snapshot(state), wire, tuple(produced))


class RunMessages:
    """The message store of one run's step: the agent's shared store, checked once per ``token``.

    Args:
        shared: The agent's store.
        local: The run's own store, for messages holding files (see ``SharedWireStore``).
        token: The run's, or (with a ``prepare_step`` hook, which may edit messages in place)
            the step's: what was checked under it is trusted for its lifetime.
    """

    __slots__ = ("local", "shared", "token")

    def __init__(self, shared: SharedWireStore, local: WireStore, token: object) -> None:
        self.shared = shared
        self.local = local
        self.token = token

    def encode_each(
        self,
        namespace: Hashable,
        items: Sequence[Message],
        encode: Callable[[Message, list[CallWarning]], WireT],
        warnings: list[CallWarning],
    ) -> list[WireT]:
        """The wire form of each message (see ``SharedWireStore.encode_each``)."""
        return self.shared.encode_each(namespace, items, encode, warnings, token=self.token, local=self.local)


class WireForm(dict[str, Any]):
    """A wire dict a store keeps: read as the dict it is, and its JSON ``text`` once sent."""

    __slots__ = ("text",)
    # No __init__ of its own: dict's (in C) copies the wire form, and ``text`` stays unset.
    text: str
    """The dict as ``_json.encode_text`` writes it, set by ``encode_body`` the first time."""


def _kept(wire: WireT) -> WireT:
    """``wire`` as a store keeps it: a dict, and each dict of a list of dicts, as a ``WireForm``."""
    value: Any = wire  # read as Any: no runtime casts on a path taken for every new message
    kept: Any = wire
    if value.__class__ is dict:
        kept = WireForm(value)
    elif value.__class__ is list:
        forms: list[WireForm] = []
        for entry in value:  # a loop, not all() over a generator: this runs for every message
            if entry.__class__ is not dict:
                return wire
            forms.append(WireForm(entry))
        kept = forms
    return kept


def encode_body(body: dict[str, Any]) -> bytes:
    """``body`` as compact UTF-8 JSON, the bytes ``_json.encode`` gives, from kept texts where it can.

    The items of the body's top-level lists (``messages``, ``tools``, ``input``) that are
    kept wire forms are encoded the first time they are sent and written from their text
    after; everything else is encoded as usual.

    Raises:
        UserError: as ``_json.encode``.
    """
    # One flat list of pieces joined once: a long history's body is one large string (and its
    # bytes), not several (a list's text, then the body's), each a fresh allocation per request.
    pieces: list[str] = ["{"]
    append = pieces.append
    for key, value in body.items():
        if type(key) is not str:
            return _json.encode(body)  # keys JSON converts (numbers, booleans): the plain way
        if len(pieces) > 1:
            append(",")
        append(_json.encode_string(key))
        append(":")
        # ``__class__`` rather than ``type()``: the type checker keeps ``value`` as Any.
        if value.__class__ is str:  # "model" and the like
            append(_json.encode_string(value))
            continue
        items: list[Any] = value if value.__class__ is list else []
        # A loop, not any() over a generator: no generator made (and closed) per list.
        for item in items:
            if type(item) is WireForm:
                break
        else:  # no kept wire form: encoded as usual
            append(_json.encode_text(value))
            continue
        append("[")
        for item in items:
            if type(item) is not WireForm:
                append(_json.encode_text(item))
            else:
                # getattr with a default, not try/except: a new message's first request
                # raises no Python-level exception.
                text = getattr(item, "text", None)
                if text is None:  # its first request
                    text = item.text = _json.encode_text(item)
                append(text)
            append(",")
        pieces[-1] = "]"  # the last item's comma (the list has items: one is a WireForm)
    append("}")
    return _json.utf8("".join(pieces))


class WireCache:
    """What a run gives its codec (``Call.wire_cache``): stores for messages and for tools.

    Attributes:
        messages: Encoded messages, kept for the run (or, shared, for the messages' lifetime).
        tools: Encoded tool definitions, kept as long as the step's tool set.
    """

    __slots__ = ("messages", "tools")

    def __init__(self, *, messages: WireStore | RunMessages, tools: WireStore) -> None:
        self.messages = messages
        self.tools = tools


def each_message(
    cache: WireCache | None,
    namespace: Hashable,
    messages: Sequence[Message],
    encode: Callable[[Message, list[CallWarning]], WireT],
    warnings: list[CallWarning],
) -> list[WireT]:
    """``encode(message, warnings)`` of each message, reusing the cache's when there is one."""
    if cache is None:
        return [encode(message, warnings) for message in messages]
    return cache.messages.encode_each(namespace, messages, encode, warnings)


def each_tool(
    cache: WireCache | None,
    namespace: Hashable,
    tools: Sequence[ItemT],
    encode: Callable[[ItemT, list[CallWarning]], WireT],
    warnings: list[CallWarning],
) -> list[WireT]:
    """``encode(tool, warnings)`` of each tool definition, reusing the cache's when there is one."""
    if cache is None:
        return [encode(tool, warnings) for tool in tools]
    return cache.tools.encode_each(namespace, tools, encode, warnings)


_PART_FIELDS: dict[type[Any], Callable[[Any], tuple[Any, ...]]] = {
    kind: attrgetter(*(field.name for field in fields(kind)))
    for kind in (TextPart, ReasoningPart, ToolCallPart, ToolResultPart, FilePart, SourcePart)
}


def message_state(message: Message) -> object:
    """Everything a codec reads of ``message``, cheaply: equal while the message is unchanged.

    Parts are taken field by field (a ``ToolResultPart``'s file too), so a field set anew, a
    part added, removed or replaced, or a dict edited in place (the store keeps a copy of the
    dicts and lists) all make it differ. Other objects are compared by equality: an object
    edited in place (a typed ``Options`` instance) must be replaced to be seen.
    """
    content = message.content
    if len(content) == 1:
        first = content[0]
        if (
            type(first) is TextPart
            and not message.provider_options
            and not first.provider_options
            and not first.provider_metadata
        ):
            # Most messages: one text and no options. Small and made of immutable values, so
            # checking it touches little; it never equals the general form below.
            return (message.role, first.text, first.type)
    return (message.role, message.provider_options, [_part_state(part) for part in content])


def _part_state(part: object) -> object:
    kind = type(part)
    getter = _PART_FIELDS.get(kind)
    if getter is None:
        return object()  # a part type not known here: never equal, so always encoded afresh
    if kind is ToolResultPart:
        media = cast(ToolResultPart, part).media
        if media is not None:
            return (kind, getter(part), _part_state(media))
    return (kind, getter(part))


def _holds_file(message: Message) -> bool:
    """Whether ``message`` carries a file (its own, or a tool result's)."""
    for part in message.content:
        kind = type(part)
        if kind is FilePart or (kind is ToolResultPart and cast(ToolResultPart, part).media is not None):
            return True
    return False


_EMPTY: Mapping[Any, Any] = MappingProxyType({})
"""An empty dict in a snapshot: equal to an empty dict, and nothing can be added to it."""


def _snapshot(state: object) -> object:
    """A ``message_state`` kept for later checks: ``_frozen``, for the shapes it has.

    A plain message's state holds immutable values only. Otherwise every part's fields end
    with its two metadata dicts and its type (``_PART_FIELDS``): those dicts, and the
    message's options, are the state's only mutable values besides a tool result's file.
    """
    role, options, parts = cast(_AnyTuple, state)
    if type(parts) is not list:
        return state
    return (role, _options_copy(options), [_snapshot_part(part) for part in cast(_AnyList, parts)])


def _snapshot_part(part: object) -> object:
    if type(part) is not tuple:
        return part  # a part type not known here: a sentinel that equals nothing
    state = cast(_AnyTuple, part)
    fields = cast(_AnyTuple, state[1])
    last = len(fields) - 3
    fields = (*fields[:last], _options_copy(fields[last]), _options_copy(fields[last + 1]), fields[-1])
    if len(state) == 2:
        return (state[0], fields)
    return (state[0], fields, _snapshot_part(state[2]))


def _options_copy(options: Any) -> Any:
    return _EMPTY if not options else _frozen(options)


_IMMUTABLE: frozenset[type[Any]] = frozenset({str, int, float, bool, bytes, type(None), type})
"""Types whose values ``_frozen`` keeps as they are (most of a state: texts, ids, flags, part types)."""


def _frozen(value: object) -> object:
    """``value`` with its dicts, lists and tuples copied, so later edits of the originals show."""
    kind = type(value)
    if kind is tuple:
        items = cast(_AnyTuple, value)
        return tuple([item if type(item) in _IMMUTABLE else _frozen(item) for item in items])
    if kind is dict:
        mapping = cast(_AnyDict, value)
        return {key: item if type(item) in _IMMUTABLE else _frozen(item) for key, item in mapping.items()}
    if kind is list:
        return [item if type(item) in _IMMUTABLE else _frozen(item) for item in cast(_AnyList, value)]
    if isinstance(value, dict):  # subclasses, as plain copies
        return {key: _frozen(item) for key, item in cast(_AnyDict, value).items()}
    if isinstance(value, list):
        return [_frozen(item) for item in cast(_AnyList, value)]
    if isinstance(value, tuple):
        return tuple(_frozen(item) for item in cast(_AnyTuple, value))
    return value
