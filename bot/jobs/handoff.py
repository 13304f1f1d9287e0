"""How a job came to be made where it was, when the bot stepped in on its own.

Two things make the bot act for a member without being asked: a provider that refused a create
without making anything (the job moves on to the next provider serving its model), and a
create whose answer was lost while the provider's list proved, twice, that nothing was made (it
is sent once more). Each is a step, kept on the row (`handoff`) so that the card says so for as
long as it is shown, restarts included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Final

from bot.videoapi.refusals import Refusal

# The step of a create sent once more at the same provider.
AGAIN: Final = "again"


@dataclass(frozen=True, slots=True)
class Step:
    # The provider's configured name (`default` where only one is configured).
    provider: str
    # Why the provider made nothing, or AGAIN: its answer was lost, and the create sent again.
    why: Refusal | str


def add(handoff: str | None, step: Step) -> str:
    """`handoff` (a row's) with `step` after the ones before it."""
    return json.dumps([[s.provider, s.why] for s in (*steps(handoff), step)])


def steps(handoff: str | None) -> tuple[Step, ...]:
    """The steps a row's `handoff` holds, in order; none for a row made as first asked."""
    if not handoff:
        return ()
    return tuple(Step(str(provider), str(why)) for provider, why in json.loads(handoff))
