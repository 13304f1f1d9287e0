"""The model picker across providers: one entry per model with its provider and price, what a
server allows, and the lists /help and /limits show."""

from __future__ import annotations

from bot.ui.choices import CHOICES_MAX, LABEL_MAX, model_choices, models_text, offer_label
from bot.videoapi.providers import Offer

OFFERS = [
    Offer("veo-3.1", "openrouter", 0.5, ("gateway",)),
    Offer("kling-2", "openrouter", 0.125),
    Offer("wan2.2", "local", 0.0),
]


def test_several_providers_label_names_the_provider_and_price() -> None:
    assert offer_label(OFFERS[0]) == "veo-3.1 · openrouter · $0.50/s"
    assert offer_label(OFFERS[1]) == "kling-2 · openrouter · $0.125/s"
    assert len(offer_label(Offer("m" * 120, "p", 1.0))) <= LABEL_MAX


def test_several_providers_choices_match_model_or_provider_in_order() -> None:
    assert [c.value for c in model_choices(OFFERS, "")] == ["veo-3.1", "kling-2", "wan2.2"]
    assert [c.value for c in model_choices(OFFERS, "LOCAL")] == ["wan2.2"]
    assert [c.value for c in model_choices(OFFERS, "veo")] == ["veo-3.1"]
    many = [Offer(f"m{n}", "p", 0.1) for n in range(40)]
    assert len(model_choices(many, "")) == CHOICES_MAX


def test_several_providers_a_server_sees_only_the_models_it_allows() -> None:
    allowed = frozenset({"wan2.2", "veo-3.1"})
    assert [c.value for c in model_choices(OFFERS, "", allowed)] == ["veo-3.1", "wan2.2"]
    assert models_text(OFFERS, allowed) == (
        "`veo-3.1` · openrouter · $0.50/s (also gateway)\n`wan2.2` · local · $0.00/s"
    )


def test_several_providers_a_long_list_says_how_many_more() -> None:
    many = [Offer(f"model-{n:02d}", "provider", 0.1) for n in range(60)]
    text = models_text(many)
    assert len(text) <= 1000
    lines = text.splitlines()
    assert lines[-1] == f"and {60 - (len(lines) - 1)} more"
    assert models_text([]) == "none"
