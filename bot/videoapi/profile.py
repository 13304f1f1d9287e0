"""What a provider accepts: models, sizes, seconds, and what a generated second costs.

The default is the contract's own lists. Gateways and self-hosted servers serve other models
and durations, so every list can be overridden in the settings.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.videoapi.errors import InvalidParameterError
from bot.videoapi.models import Operation

# How create, edit and extend bodies go: `auto` sends JSON and switches after a 415.
BodyEncoding = Literal["auto", "json", "multipart"]

PROMPT_MAX_CHARS = 32_000
CHARACTER_NAME_MAX_CHARS = 80


def _one_of(values: tuple[str, ...]) -> str:
    return ", ".join(values)


class ProviderProfile(BaseModel):
    model_config = ConfigDict(frozen=True)

    models: tuple[str, ...] = ("sora-2", "sora-2-pro")
    sizes: tuple[str, ...] = ("720x1280", "1280x720", "1024x1792", "1792x1024")
    # Sizes a given model allows, where narrower than `sizes`.
    model_sizes: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    seconds: tuple[str, ...] = ("4", "8", "12")
    # Seconds a given model allows, where they differ from `seconds` (a live catalogue's models
    # each have their own durations); also its extension lengths.
    model_seconds: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # The extension operation's text allows longer segments than create does.
    extend_seconds: tuple[str, ...] = ("4", "8", "12", "16", "20")
    price_per_second: dict[str, float] = Field(
        default_factory=lambda: {"sora-2": 0.10, "sora-2-pro": 0.30}
    )
    default_price_per_second: float = 0.10
    body: BodyEncoding = "auto"
    # Status requests (list, retrieve) the tracker may send a minute, sustained. The provider's
    # rate-limit headers tighten it; creates by users come out of the same allowance, so the
    # default leaves room for them under OpenAI's lower tiers.
    requests_per_minute: float = Field(default=60.0, gt=0)
    # Operations the server is known to lack: refused at once, hidden from cards from the start.
    missing: frozenset[Operation] = frozenset()

    @model_validator(mode="after")
    def _not_empty(self) -> ProviderProfile:
        for name in ("models", "sizes", "seconds", "extend_seconds"):
            if not getattr(self, name):
                raise ValueError(f"the provider profile needs at least one entry in {name}")
        return self

    @property
    def default_model(self) -> str:
        return self.models[0]

    @property
    def default_size(self) -> str:
        return self.sizes[0]

    @property
    def default_seconds(self) -> str:
        return self.seconds[0]

    def sizes_for(self, model: str) -> tuple[str, ...]:
        return self.model_sizes.get(model, self.sizes)

    def seconds_for(self, model: str, *, extend: bool = False) -> tuple[str, ...]:
        if model in self.model_seconds:
            return self.model_seconds[model]
        return self.extend_seconds if extend else self.seconds

    def check_model(self, model: str | None) -> str:
        chosen = model or self.default_model
        if chosen not in self.models:
            raise InvalidParameterError(
                "model", f"model must be one of {_one_of(self.models)}, not {chosen!r}"
            )
        return chosen

    def check_size(self, model: str, size: str | None) -> str:
        allowed = self.sizes_for(model)
        chosen = size or allowed[0]
        if chosen not in allowed:
            raise InvalidParameterError(
                "size", f"size must be one of {_one_of(allowed)} for {model}, not {chosen!r}"
            )
        return chosen

    def check_seconds(self, model: str, seconds: str | int | None, *, extend: bool = False) -> str:
        allowed = self.seconds_for(model, extend=extend)
        chosen = str(seconds) if seconds is not None else allowed[0]
        if chosen not in allowed:
            raise InvalidParameterError(
                "seconds", f"seconds must be one of {_one_of(allowed)} for {model}, not {chosen!r}"
            )
        return chosen

    def price_for(self, model: str) -> float:
        return self.price_per_second.get(model, self.default_price_per_second)

    def cost(self, model: str, seconds: str | int) -> float:
        return round(self.price_for(model) * int(seconds), 4)


def check_prompt(prompt: str) -> str:
    text = prompt.strip()
    if not text:
        raise InvalidParameterError("prompt", "prompt must not be empty")
    if len(text) > PROMPT_MAX_CHARS:
        raise InvalidParameterError(
            "prompt", f"prompt must be at most {PROMPT_MAX_CHARS:,} characters, not {len(text):,}"
        )
    return text


def check_character_name(name: str) -> str:
    text = name.strip()
    if not 1 <= len(text) <= CHARACTER_NAME_MAX_CHARS:
        raise InvalidParameterError(
            "name", f"a character name must be 1 to {CHARACTER_NAME_MAX_CHARS} characters long"
        )
    return text
