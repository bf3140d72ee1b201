"""The records (dataclasses inheriting ``Record``): ``==``, ``repr`` and hash as ``@dataclass`` makes them."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from reverie import _codec, _content, _model, _parts, _results, _retry
from reverie import _record as record_module
from reverie._http import auth, credentials, endpoint, framing, sse
from reverie._record import FrozenRecord, Record, frozen_dataclass
from reverie._run import actions, approval, config, fallback, planning, resume, step_hook
from reverie.providers._openai_chat import stream as chat_stream

RECORDS = sorted(
    {
        value
        for module in (
            _content,
            _parts,
            _model,
            _results,
            _codec,
            _retry,
            actions,
            approval,
            config,
            step_hook,
            resume,
            fallback,
            planning,
            auth,
            credentials,
            endpoint,
            framing,
            sse,
            chat_stream,
        )
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Record) and value not in (Record, FrozenRecord)
    },
    key=lambda cls: cls.__qualname__,
)


def example(cls: type[Any], text: str = "x") -> Any:
    """An instance of ``cls`` with ``text`` in each required field."""
    required = {
        field.name: text
        for field in dataclasses.fields(cls)
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING
    }
    return cls(**required)


def reference(cls: type[Any]) -> type[Any]:
    """The same fields in a class ``@dataclass`` writes ``==`` and ``repr`` for itself."""
    fields = [(field.name, field.type, field) for field in dataclasses.fields(cls)]
    frozen = cls.__dataclass_params__.frozen
    made = dataclasses.make_dataclass(cls.__name__, fields, kw_only=True, slots=True, frozen=frozen)
    made.__qualname__ = cls.__qualname__
    return made


def test_every_record_module_declares_records() -> None:
    names = {cls.__name__ for cls in RECORDS}
    assert {
        "TextPart",
        "Message",
        "TextDeltaPart",
        "Call",
        "Response",
        "StepResult",
        "AgentResult",
        "RunConfig",
        "SSEEvent",
    } <= names


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__qualname__)
def test_repr_and_equality_are_those_of_a_generated_dataclass(cls: type[Any]) -> None:
    record = example(cls)
    made = reference(cls)
    values = {field.name: getattr(record, field.name) for field in dataclasses.fields(cls) if field.init}
    assert repr(record) == repr(made(**values))
    assert dataclasses.is_dataclass(record)
    assert record == example(cls)
    assert record != object()
    assert (record == made(**values)) is False  # another class: never equal
    if isinstance(record, FrozenRecord):
        try:
            expected = hash(made(**values))
        except TypeError:  # a dict among the hashed fields: unhashable both ways
            with pytest.raises(TypeError, match="unhashable"):
                hash(record)
        else:
            assert hash(record) == expected == hash(example(cls))
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(record, dataclasses.fields(made)[0].name, "changed")
    else:
        with pytest.raises(TypeError, match="unhashable"):
            hash(record)
    compared = [field.name for field in dataclasses.fields(cls) if field.compare and field.init]
    for name in compared:
        if type(getattr(record, name)) is str:
            other = cls(**(values | {name: "changed"}))
            assert record != other
            assert (made(**values) == made(**(values | {name: "changed"}))) is False


def test_fields_left_out_of_repr_and_comparison_stay_out() -> None:
    call = _model.Call(prompt=[])
    other = dataclasses.replace(call, wire_cache=object())  # pyright: ignore[reportArgumentType]
    assert call == other
    assert "wire_cache" not in repr(call)


def test_a_record_that_contains_itself_is_shown_with_an_ellipsis() -> None:
    nested: list[Any] = []
    part = _content.TextPart(text="x", provider_metadata={"p": {"parts": nested}})
    nested.append(part)
    assert (
        repr(part)
        == "TextPart(text='x', provider_metadata={'p': {'parts': [...]}}, provider_options={}, type='text')"
    )


def test_the_same_object_in_a_field_is_equal_even_when_it_is_not_equal_to_itself() -> None:
    nan = float("nan")
    assert _content.TextPart(text="x", provider_metadata={"p": {"n": nan}}) != _content.TextPart(
        text="x", provider_metadata={"p": {"n": float("nan")}}
    )
    shared: dict[str, dict[str, Any]] = {"p": {"n": nan}}
    assert _content.TextPart(text="x", provider_metadata=shared) == _content.TextPart(
        text="x", provider_metadata=shared
    )


def test_frozen_dataclass_classes_are_marked_frozen_with_shared_methods() -> None:
    for cls in (
        _content.CallWarning,
        _model.ToolDefinition,
        _model.ProviderTool,
        _model.ResponseFormat,
        _parts.Discarded,
        _retry.RetryPolicy,
        step_hook.StepContext,
    ):
        assert _params(cls).frozen
        assert cls.__setattr__ is record_module._frozen_setattr  # pyright: ignore[reportPrivateUsage]


def _params(cls: type[Any]) -> Any:
    """The ``__dataclass_params__`` of ``cls``."""
    return vars(cls)["__dataclass_params__"]


@frozen_dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class SharedPoint(FrozenRecord):
    """Built by ``frozen_dataclass``: shared ``__setattr__`` and ``__delattr__``."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    seen: list[int] = dataclasses.field(default_factory=list[int], init=False, compare=False)

    def __post_init__(self) -> None:
        self.seen.append(self.x)  # a field's value may change in place; the field may not


@dataclasses.dataclass(slots=True, kw_only=True, frozen=True, repr=False, eq=False)
class GeneratedPoint(FrozenRecord):
    """The same class built by ``@dataclass(frozen=True)``: generated methods."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()
    seen: list[int] = dataclasses.field(default_factory=list[int], init=False, compare=False)

    def __post_init__(self) -> None:
        self.seen.append(self.x)


def _twins() -> tuple[type[Any], type[Any]]:
    return SharedPoint, GeneratedPoint


def _shown(value: object) -> str:
    """``repr(value)`` without the class name."""
    return repr(value).partition("(")[2]


def _outcome(action: Callable[[], Any]) -> Any:
    """What ``action`` returns, or the type and message of what it raises."""
    try:
        return action()
    except Exception as error:
        return (type(error), str(error))


def test_frozen_dataclass_behaves_as_a_generated_frozen_dataclass() -> None:
    ours, generated = _twins()
    for cls in (ours, generated):
        point = cls(x=1, tags=("a",))
        assert dataclasses.is_dataclass(point)
        assert _params(cls).frozen
        assert vars(cls)["__slots__"] == ("x", "y", "tags", "seen")
        assert not hasattr(point, "__dict__")
    results: list[list[Any]] = []
    for cls in (ours, generated):
        point = cls(x=1, tags=("a",))
        results.append(
            [
                _shown(point),
                hash(cls(x=1)),
                point == cls(x=1, tags=("a",)),
                _outcome(lambda: setattr(point, "x", 2)),  # noqa: B023 - called at once
                _outcome(lambda: setattr(point, "seen", [])),  # noqa: B023
                _outcome(lambda: delattr(point, "y")),  # noqa: B023
                _outcome(lambda: object.__setattr__(point, "y", 5)),  # noqa: B023 - the escape hatch stays
                point.y,
                _outcome(lambda: cls())[1].partition(".")[2],  # noqa: B023 - without the class name
                _shown(dataclasses.replace(point, y=7)),
                point.seen,
                _shown(copy.copy(point)),
                _shown(copy.deepcopy(point)),
                _shown(pickle.loads(pickle.dumps(point))),
                point.__getstate__(),
                [field.name for field in dataclasses.fields(point)],
                str(inspect.signature(cls)),
            ]
        )
    assert results[0] == results[1]
    assert results[0][3] == (dataclasses.FrozenInstanceError, "cannot assign to field 'x'")
    assert results[0][5] == (dataclasses.FrozenInstanceError, "cannot delete field 'y'")
    # An attribute that is not a field: the generated methods of a slotted class name the class
    # as it was before slots were added, so CPython 3.11 raises a TypeError about super() there;
    # the shared ones raise FrozenInstanceError, as for a field.
    point = ours(x=1)
    assert _outcome(lambda: setattr(point, "other", 2)) == (
        dataclasses.FrozenInstanceError,
        "cannot assign to field 'other'",
    )
    assert _outcome(lambda: delattr(point, "other")) == (
        dataclasses.FrozenInstanceError,
        "cannot delete field 'other'",
    )


def test_a_subclass_of_a_frozen_dataclass_class_behaves_as_one_of_a_generated_one() -> None:
    results: list[list[Any]] = []
    plains: list[Any] = []
    base: type[Any]
    for base in _twins():

        class Plain(base):  # not a dataclass: instances get a __dict__ for their own attributes
            def __init__(self, x: int) -> None:
                super().__init__(x=x)  # pyright: ignore[reportUnknownMemberType]

        plain = Plain(3)
        plains.append(plain)
        child_class = dataclasses.dataclass(frozen=True, kw_only=True)(
            type("Child", (base,), {"__annotations__": {"z": "int"}, "z": 0})
        )
        child: Any = child_class(x=1, z=2)
        results.append(
            [
                _shown(plain),
                _outcome(lambda: setattr(plain, "x", 2)),  # noqa: B023 - called at once
                _outcome(lambda: delattr(plain, "y")),  # noqa: B023
                _outcome(lambda: setattr(child, "x", 5)),  # noqa: B023
                _outcome(lambda: setattr(child, "z", 5)),  # noqa: B023
                (child.x, child.z),
                _outcome(lambda: dataclasses.dataclass(type("Mutable", (base,), {}))),  # noqa: B023
            ]
        )
    assert results[0] == results[1]
    assert results[0][1] == (dataclasses.FrozenInstanceError, "cannot assign to field 'x'")
    assert results[0][6] == (TypeError, "cannot inherit non-frozen dataclass from a frozen one")
    # A plain subclass's own attributes: the generated __setattr__ of a slotted class names
    # the class as it was before slots were added, so CPython 3.11 raises a TypeError there;
    # the shared one lets the attribute be set and deleted, as intended for a subclass.
    ours, generated = plains
    ours.label = "plain"
    assert ours.label == "plain"
    del ours.label
    assert not hasattr(ours, "label")
    assert _outcome(lambda: setattr(generated, "label", "plain"))[0] is TypeError


def test_frozen_dataclass_makes_frozen_classes_only() -> None:
    with pytest.raises(TypeError, match="frozen=True"):
        frozen_dataclass(frozen=False)  # pyright: ignore[reportUnusedCallResult]


def test_frozen_dataclass_leaves_a_frozen_dataclass_subclass_to_dataclass() -> None:
    child_class: Any = frozen_dataclass(slots=True, kw_only=True, frozen=True)(
        type("Child", (SharedPoint,), {"__annotations__": {"z": "int"}, "z": 0})
    )
    child = child_class(x=1, z=2)
    assert (child.x, child.z) == (1, 2)
    assert _params(child_class).frozen
    assert child_class.__setattr__ is not record_module._frozen_setattr  # pyright: ignore[reportPrivateUsage]
    with pytest.raises(dataclasses.FrozenInstanceError):
        child.z = 3
