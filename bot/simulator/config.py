"""Everything that shapes the simulator's behaviour: timing, the provider profile, faults."""

from __future__ import annotations

import time
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bot.simulator.clock import Clock
from bot.simulator.dialects import DialectName
from bot.simulator.errors import CreateRefusal
from bot.simulator.progress import ProgressShapeSetting
from bot.videoapi.models import Operation
from bot.videoapi.profile import ProviderProfile

Probability = Annotated[float, Field(ge=0, le=1)]


class SimulatorConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    # How long a job takes from creation to its final status, and the share of it spent queued.
    job_seconds: float = Field(default=6.0, ge=0)
    # When set, each job's duration is drawn between job_seconds and this, log-uniformly (most
    # jobs short, a few long, as real ones are), from a generator seeded by `seed` alone: the
    # same seed and order of creation give the same durations, whatever else is drawn.
    job_seconds_max: float | None = Field(default=None, ge=0)
    queued_fraction: float = Field(default=0.2, ge=0, le=1)
    # How progress grows while a job runs (bot/simulator/progress.py); `mixed` draws one per job.
    progress_shape: ProgressShapeSetting = "linear"
    # Jobs created stay queued, their clocks stopped, until POST /simulator/release starts
    # them all at once (benchmarks: every job truly concurrent).
    hold: bool = False
    profile: ProviderProfile = Field(default_factory=ProviderProfile)
    # None accepts any key or none; otherwise only `Authorization: Bearer <api_key>` passes.
    api_key: str | None = Field(default=None, repr=False)

    # Faults, drawn per request (429, 500) or per job (moderation) from a seeded generator.
    rate_429: Probability = 0.0
    retry_after_seconds: float = Field(default=1.0, ge=0)
    rate_500: Probability = 0.0
    # A 500 answered after a billable job was made: the job exists, its answer is lost.
    rate_500_after_create: Probability = 0.0
    rate_moderation_failure: Probability = 0.0
    # Creates refused, one each in this order, before any job is made (then served as usual);
    # more are queued at run time through the state or POST /simulator/faults.
    create_refusals: tuple[CreateRefusal, ...] = ()
    # A create's job is made at once but its answer sent this many seconds later: a client
    # that gives up sooner has lost the answer to a job that exists.
    create_answer_delay: float = Field(default=0.0, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    # Pads the MP4 past Discord's default 10 MiB upload limit.
    big_assets: bool = False
    # MP4s that weigh what real renders do (noise frames and an AAC track, ~30 MiB for 12 s at
    # 1792x1024): past an upload limit for real, so only a re-encode brings them under it.
    noisy_assets: bool = False
    poll_after_ms: int | None = Field(default=None, ge=0)
    # Routes in an outage: 503 on every request to them (a storage backend down, say).
    unavailable_operations: frozenset[Operation] = frozenset()
    # Routes answered as a gateway without them would: 404 with a plain-text body.
    disabled_operations: frozenset[Operation] = frozenset()
    # Which server to imitate: the contract itself, or a real server's deviations from it.
    dialect: DialectName = "openai"
    # The openrouter dialect's account balance in USD: a create costing more gets 402. None: no
    # limit.
    openrouter_credits: float | None = Field(default=None, ge=0)
    # The workspace signing secret: with it, a job created with a `callback_url` is announced
    # there, signed, when it ends.
    openrouter_webhook_secret: str | None = Field(default=None, repr=False)
    seed: int = 0
    clock: Clock = time.time

    @model_validator(mode="after")
    def _check_job_seconds_range(self) -> Self:
        if self.job_seconds_max is not None:
            if self.job_seconds <= 0:
                raise ValueError("job_seconds must be above 0 when job_seconds_max is set")
            if self.job_seconds_max < self.job_seconds:
                raise ValueError("job_seconds_max must not be below job_seconds")
        return self
