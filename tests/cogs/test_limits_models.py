"""/limits models: which models a server may use, changed one at a time."""

from __future__ import annotations

import pytest

from bot.errors import UserError
from cogs.limits import _changed_models

OFFERED = ["veo-3.1", "kling-2", "wan2.2"]


def test_several_providers_allowing_a_model_starts_the_list() -> None:
    assert _changed_models(frozenset(), "wan2.2", "allow", OFFERED) == {"wan2.2"}
    assert _changed_models(frozenset({"wan2.2"}), "kling-2", "allow", OFFERED) == {
        "wan2.2",
        "kling-2",
    }


def test_several_providers_disallowing_from_every_model_keeps_the_others() -> None:
    assert _changed_models(frozenset(), "kling-2", "disallow", OFFERED) == {"veo-3.1", "wan2.2"}
    assert _changed_models(frozenset({"wan2.2", "kling-2"}), "kling-2", "disallow", OFFERED) == {
        "wan2.2"
    }


def test_several_providers_every_model_lifts_the_list() -> None:
    assert _changed_models(frozenset({"wan2.2"}), None, "every model", OFFERED) == frozenset()


@pytest.mark.parametrize(
    ("allowed", "model", "use", "said"),
    [
        (frozenset(), None, "allow", "Name a model."),
        (frozenset(), "sora-2", "allow", "sora-2 is not offered; the models offered are"),
        (frozenset({"wan2.2"}), "wan2.2", "disallow", "wan2.2 is the only model allowed here"),
    ],
)
def test_several_providers_a_change_that_cannot_be_made_says_why(
    allowed: frozenset[str], model: str | None, use: str, said: str
) -> None:
    with pytest.raises(UserError, match=said):
        _changed_models(allowed, model, use, OFFERED)  # type: ignore[arg-type]
