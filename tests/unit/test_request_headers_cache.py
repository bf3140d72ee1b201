"""A model checks each distinct set of request headers once, and still refuses a bad one.

``HttpLanguageModel`` keeps the merged headers of the layers it has seen (provider, codec,
call); a later request with other layers, or with the provider's headers changed, is merged
and checked afresh.
"""

from __future__ import annotations

import pytest

from reverie import Call, Message, UserError
from reverie.providers import openaicompat


def test_headers_are_merged_per_layers_and_bad_ones_are_refused_every_time() -> None:
    provider = openaicompat.Provider(base_url="http://test/v1", api_key="k", headers={"x-team": "a"})
    model = provider.language_model("m")
    prompt = [Message.user("hi")]
    for _ in range(2):
        sent = model.prepare(Call(prompt=prompt, headers={"x-call": "1"}), stream=False).headers
        assert (sent["x-team"], sent["x-call"]) == ("a", "1")
        sent["x-team"] = "changed"  # the request's own copy
    for _ in range(2):
        with pytest.raises(UserError, match="the call's headers"):
            model.prepare(Call(prompt=prompt, headers={"x-call": "1\n"}), stream=False)
        with pytest.raises(UserError, match="must be a string"):
            model.prepare(Call(prompt=prompt, headers={"x-call": ["1"]}), stream=False)  # pyright: ignore[reportArgumentType]
    provider.headers["x-team"] = "b"
    assert model.prepare(Call(prompt=prompt), stream=False).headers["x-team"] == "b"
    provider.headers["x-team"] = "b\r\n"
    with pytest.raises(UserError, match="the headers of a request to openaicompat"):
        model.prepare(Call(prompt=prompt), stream=False)
