"""``reverie._codec.error_body``: how the decoders read an error answer's body."""

from __future__ import annotations

from typing import Any

import pytest

from reverie._codec import error_body


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('{"error": {"message": "busy"}}', {"error": {"message": "busy"}}),
        ("{}", {}),
        ("\ufeff{}", {}),
        ("[]", None),
        ('[{"error": "x"}]', None),
        ('"error"', None),
        ("null", None),
        ("<html>Bad gateway</html>", None),
        ("", None),
    ],
)
def test_an_error_body_is_read_only_as_a_json_object(body: str, expected: dict[str, Any] | None) -> None:
    assert error_body(body) == expected


def test_an_error_body_in_a_list_is_its_first_item_where_asked() -> None:
    body = '[{"error": {"code": 429}}, {"error": {"code": 500}}]'
    assert error_body(body, first_of_list=True) == {"error": {"code": 429}}
    assert error_body("[]", first_of_list=True) is None
    assert error_body('["busy"]', first_of_list=True) is None
    assert error_body('{"error": {}}', first_of_list=True) == {"error": {}}
