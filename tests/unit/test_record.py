"""The records (dataclasses inheriting ``Record``): ``==``, ``repr`` and hash as ``@dataclass`` makes them."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from reverie import _codec, _content, _model, _parts, _results, _retry
from reverie._http import auth, credentials, endpoint, framing, sse
from reverie._record import FrozenRecord, Record
from reverie._run import actions, approval, config, fallback, planning, resume
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
