"""Several providers side by side, each known by its name, and what each of them offers.

The operator lists providers in their order of preference (bot/providers_file.py reads the
file; without one, today's single-provider settings make the one entry named `default`). Every
job's row records the name of the provider that made it, and every later call about the job
(its looks, downloads, derived jobs, delete, reconcile) goes to `Providers.get(row.provider)`,
whatever the configuration has become since: a name no longer configured raises
`ProviderRemoved`, which the card and the member are told.

A model is offered once across providers: under its own id, or under the name of an
equivalence group the operator declared (`"veo-3.1" = ["google/veo-3.1", "veo-3.1-generate-001"]`).
`serving(model)` gives every provider that serves it, in the operator's order, each with the
model as that provider names it: the first is where a new job goes, the rest are where a create
may move after a refusal that made nothing (failover).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from pydantic import SecretStr

from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import InvalidParameterError, VideoAPIError
from bot.videoapi.presets import PresetName
from bot.videoapi.profile import ProviderProfile

# The name of the one provider configured by the single-provider settings, and of the provider
# of every row made before several could be configured (migration 0011).
DEFAULT_PROVIDER: Final = "default"
# What a provider's name may look like: it is stored in rows and shown in pickers.
NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9_.-]{0,31}$"


class ProviderRemoved(VideoAPIError):
    """A job's provider is no longer configured: nothing about the job can be asked of it."""

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"the provider {provider!r} that made this video is no longer configured",
            code="provider_removed",
        )
        self.provider = provider


@dataclass(frozen=True, slots=True)
class ProviderSpec:
    """One provider as configured: how to reach it and what it accepts."""

    name: str
    kind: PresetName
    base_url: str
    api_key: SecretStr | None
    profile: ProviderProfile
    # The models the operator chose to offer, where a live catalogue (OpenRouter) would
    # otherwise offer all of its own; None: all.
    models: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class Route:
    """Where a job for a model can go: a provider, and the model as that provider names it."""

    provider: str
    model: str
    backend: VideoBackend


@dataclass(frozen=True, slots=True)
class Offer:
    """One entry of the model picker: the name a member picks, the provider a job for it goes
    to first, and the price per second there."""

    model: str
    provider: str
    price_per_second: float
    # Every other provider serving it, in the operator's order (failover, /help).
    also: tuple[str, ...] = ()


class Providers:
    """Every configured provider by name, in the operator's order of preference."""

    def __init__(
        self,
        backends: Mapping[str, VideoBackend],
        *,
        equivalents: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if not backends:
            raise ValueError("at least one provider is needed")
        self._backends = dict(backends)
        # Group name -> the model ids it stands for (a provider may also serve a model by the
        # group's own name); and each id (and the name) -> its group.
        self._groups = {
            name: tuple(dict.fromkeys((*ids, name))) for name, ids in (equivalents or {}).items()
        }
        self._group_of: dict[str, str] = {}
        for name, ids in self._groups.items():
            self._group_of[name] = name
            for model in ids:
                self._group_of[model] = name

    def wrapped(self, wrap: Callable[[str, VideoBackend], VideoBackend]) -> Providers:
        """The same providers in the same order, each backend wrapped (given its name)."""
        wrapped = {name: wrap(name, backend) for name, backend in self._backends.items()}
        return Providers(wrapped, equivalents=self._groups)

    @classmethod
    def single(cls, backend: VideoBackend, name: str = DEFAULT_PROVIDER) -> Providers:
        """One provider: what a part handed one backend (tests, benchmarks) routes to."""
        return cls({name: backend})

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._backends)

    @property
    def default(self) -> str:
        """The first provider: where a job goes when no model is named."""
        return next(iter(self._backends))

    @property
    def primary(self) -> VideoBackend:
        return self._backends[self.default]

    def __contains__(self, name: object) -> bool:
        return name in self._backends

    def __iter__(self) -> Iterator[tuple[str, VideoBackend]]:
        return iter(self._backends.items())

    def __len__(self) -> int:
        return len(self._backends)

    def get(self, name: str) -> VideoBackend:
        """The provider called `name`; ProviderRemoved when none is configured by that name."""
        backend = self._backends.get(name)
        if backend is None:
            raise ProviderRemoved(name)
        return backend

    def offered_by(self, name: str) -> tuple[str, ...]:
        """The models provider `name` offers now (less those it refused as gone)."""
        backend = self.get(name)
        return backend.capabilities.available(backend.profile.models)

    def group(self, model: str) -> str:
        """The name a model is offered under: its equivalence group's, else its own."""
        return self._group_of.get(model, model)

    def members(self, model: str) -> tuple[str, ...]:
        """Every model id that `model` (an id or a group's name) stands for."""
        group = self.group(model)
        return self._groups.get(group, (model,))

    def serving(self, model: str, *, retired: bool = False) -> list[Route]:
        """Every provider serving `model` (or the operator's named equivalent), in the
        operator's order, each with the model as it names it; with `retired`, also those
        that refused it as gone (which refuse it again, saying so, without a request)."""
        wanted = self.members(model)
        routes = []
        for name, backend in self._backends.items():
            offered = backend.profile.models if retired else self.offered_by(name)
            # The id asked for first, where this provider serves it under that very id.
            for candidate in sorted(wanted, key=lambda m: m != model):
                if candidate in offered:
                    routes.append(Route(name, candidate, backend))
                    break
        return routes

    def route(self, model: str | None) -> Route:
        """Where a new job for `model` goes; for None, the picker's first model (the first
        provider's default, unless it refused it as gone)."""
        if model is None:
            offers = self.offers()
            if offers:
                return self.serving(offers[0].model)[0]
            backend = self.primary
            return Route(self.default, backend.profile.default_model, backend)
        routes = self.serving(model) or self.serving(model, retired=True)
        if not routes:
            names = ", ".join(offer.model for offer in self.offers())
            raise InvalidParameterError("model", f"model must be one of {names}, not {model!r}")
        return routes[0]

    def offers(self) -> list[Offer]:
        """The model picker: each offered model once, in the operator's order of providers
        (and each provider's order of models), at the first provider serving it."""
        seen: dict[str, Offer] = {}
        for name in self._backends:
            for model in self.offered_by(name):
                shown = self.group(model)
                if shown in seen:
                    first = seen[shown]
                    if name != first.provider and name not in first.also:
                        seen[shown] = Offer(
                            first.model,
                            first.provider,
                            first.price_per_second,
                            (*first.also, name),
                        )
                    continue
                price = self.get(name).profile.price_for(model)
                seen[shown] = Offer(shown, name, price)
        return list(seen.values())

    async def aclose(self) -> None:
        await asyncio.gather(*(backend.aclose() for backend in self._backends.values()))


def routed(api: VideoBackend | Providers) -> Providers:
    """`api` as a registry: one backend handed in alone is the default provider."""
    return api if isinstance(api, Providers) else Providers.single(api)
