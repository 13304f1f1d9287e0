"""The create form: what it offers from the provider profile, and how its submit is read."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import discord
import pytest

from bot.interactions.forms import CREATE_FORM_ID, CreateForm, answers, create_form
from bot.videoapi.capabilities import Capabilities
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import Providers


def api(**profile: Any) -> Any:
    return SimpleNamespace(profile=ProviderProfile(**profile), capabilities=Capabilities())


def registry(**profile: Any) -> Providers:
    return Providers.single(api(**profile))


def fields(form: discord.ui.Modal) -> dict[str, dict[str, Any]]:
    payload = form.to_dict()
    return {top["component"]["custom_id"]: top["component"] for top in payload["components"]}


def test_create_form_offers_each_models_price_and_the_union_of_choices() -> None:
    form = create_form(
        registry(
            models=("veo-fast", "veo-pro"),
            sizes=("1280x720",),
            model_sizes={"veo-pro": ("1280x720", "1920x1080")},
            price_per_second={"veo-fast": 0.05, "veo-pro": 0.4},
        )
    )
    found = fields(form)
    assert [o["label"] for o in found["model"]["options"]] == [
        "veo-fast · $0.05/s",
        "veo-pro · $0.40/s",
    ]
    # Each model's sizes together; the chosen model's first is the default.
    assert [(o["value"], o["default"]) for o in found["size"]["options"]] == [
        ("1280x720", True),
        ("1920x1080", False),
    ]


def test_create_form_leaves_out_a_choice_of_one_and_uses_a_select_past_ten() -> None:
    seconds = tuple(str(n) for n in range(1, 13))
    found = fields(create_form(registry(sizes=("1280x720",), seconds=seconds)))
    assert "size" not in found
    assert found["seconds"]["type"] == discord.ComponentType.string_select.value
    assert [o["value"] for o in found["seconds"]["options"]] == list(seconds)


def test_create_form_leaves_out_a_model_the_provider_retired() -> None:
    backend = api()
    backend.capabilities.retire("sora-2")
    found = fields(create_form(Providers.single(backend)))
    assert [o["value"] for o in found["model"]["options"]] == ["sora-2-pro"]


def test_create_form_offers_only_the_models_the_server_allows() -> None:
    found = fields(create_form(registry(), frozenset({"sora-2-pro"})))
    assert [o["value"] for o in found["model"]["options"]] == ["sora-2-pro"]


def test_create_form_answers_read_every_kind_of_field() -> None:
    data = {
        "custom_id": CREATE_FORM_ID,
        "components": [
            {"type": 18, "component": {"type": 4, "custom_id": "prompt", "value": "a fox"}},
            {"type": 18, "component": {"type": 19, "custom_id": "image", "values": ["77"]}},
            {"type": 18, "component": {"type": 3, "custom_id": "model", "values": ["sora-2"]}},
            {"type": 18, "component": {"type": 21, "custom_id": "size", "value": "1280x720"}},
            {"type": 18, "component": {"type": 21, "custom_id": "seconds", "value": None}},
            {"type": 1, "components": [{"type": 4, "custom_id": "legacy", "value": ""}]},
            {"type": 10, "content": "a text display has no answer"},
        ],
    }
    assert answers(data) == {
        "prompt": ("a fox",),
        "image": ("77",),
        "model": ("sora-2",),
        "size": ("1280x720",),
        "seconds": (),
        "legacy": (),
    }


@pytest.mark.parametrize(
    "custom_id", ["videobot:v2:form:create:1", "videobot:v2:form:remix:4711", "create"]
)
def test_create_form_is_routed_by_its_own_id_only(custom_id: str) -> None:
    assert CreateForm.from_custom_id(custom_id, {"components": []}) is None
    assert CreateForm.from_custom_id(CREATE_FORM_ID, {"components": []}) is not None
