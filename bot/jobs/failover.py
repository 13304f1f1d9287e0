"""Where a create may go after its provider refused it without making anything.

Only a create moves (a derived job needs its parent, which only its provider knows), only after
a refusal that proves nothing was made (bot/videoapi/refusals.py), and only to a provider that
serves the same model (or the operator's named equivalent), takes the same size and seconds,
and charges no more per second than was reserved: the job stays within its reservation, so a
failover never spends past a limit the member or the operator set. Healthy providers are tried
before demoted ones (bot/videoapi/health.py), each in the operator's order.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import Protocol, TypeVar

from bot.spending.money import micros
from bot.videoapi.backend import VideoBackend
from bot.videoapi.errors import InvalidParameterError
from bot.videoapi.health import Health


class Destination(Protocol):
    """A provider serving a model, and the model as that provider names it."""

    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def backend(self) -> VideoBackend: ...


D = TypeVar("D", bound=Destination)


def takes(destination: Destination, size: str, seconds: str, micros_per_second: int) -> bool:
    """Whether `destination` takes the job as it was reserved: its size and seconds, at no
    more per second than the reservation holds."""
    profile = destination.backend.profile
    try:
        profile.check_size(destination.model, size)
        profile.check_seconds(destination.model, seconds)
    except InvalidParameterError:
        return False
    return micros(profile.price_for(destination.model)) <= micros_per_second


def next_destinations(
    serving: Iterable[D],
    tried: Collection[str],
    *,
    size: str,
    seconds: str,
    micros_per_second: int,
    health: Health | None = None,
) -> list[D]:
    """The providers a refused create may try next, in order: of those `serving` its model
    (in the operator's order), the ones not `tried` that take it, healthy ones first."""
    fit = [
        destination
        for destination in serving
        if destination.provider not in tried
        and takes(destination, size, seconds, micros_per_second)
    ]
    return fit if health is None else health.order(fit, lambda destination: destination.provider)
