"""OpenRouter's video API as it is on the wire: its job, its model entries, its sizes.

From OpenRouterTeam/docs `openapi/openapi.yaml` at c26125a5fa92cb52ac67f0c75b717229567db716
(VideoGenerationRequest, VideoGenerationResponse, VideoModel) and the `openrouter` SDK 1.3.84
(`components/videogenerationresponse.py`, which adds `urls`, `expires_at` and `previous_job_id`).
Shared by the simulator's openrouter dialect and the bot's OpenRouter client, so both read one
table of resolutions and aspect ratios.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.videoapi.models import APIModel

JobStatus = Literal["pending", "in_progress", "completed", "failed", "cancelled", "expired"]

# The short side of each resolution the spec names; "1K" etc. are the long side's class, read
# here as their usual short sides.
RESOLUTIONS: dict[str, int] = {
    "360p": 360,
    "480p": 480,
    "720p": 720,
    "768p": 768,
    "1080p": 1080,
    "1K": 1024,
    "2K": 1440,
    "4K": 2160,
}
ASPECT_RATIOS: tuple[str, ...] = ("16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21")
# A request body larger than this is refused with 413 (the spec's PayloadTooLarge on create).
BODY_LIMIT = 50 * 1024 * 1024


def size_of(resolution: str, aspect_ratio: str) -> str:
    """The "WxH" of a resolution at an aspect ratio: the short side fixed, the long one even."""
    short = RESOLUTIONS[resolution]
    across, _, down = aspect_ratio.partition(":")
    wide, high = int(across), int(down)
    long = 2 * round(short * max(wide, high) / min(wide, high) / 2)
    return f"{long}x{short}" if wide >= high else f"{short}x{long}"


def resolution_of(size: str) -> tuple[str, str] | None:
    """The (resolution, aspect ratio) whose size is `size`; None when no pair makes it."""
    for resolution in RESOLUTIONS:
        for ratio in ASPECT_RATIOS:
            if size_of(resolution, ratio) == size:
                return resolution, ratio
    return None


class Usage(APIModel):
    cost: float | None = None
    is_byok: bool = False


class Job(APIModel):
    """A VideoGenerationResponse: the answer to create and to a status request."""

    id: str
    polling_url: str
    status: JobStatus
    generation_id: str | None = None
    error: str | None = None
    unsigned_urls: list[str] | None = None
    urls: list[str] | None = None
    expires_at: int | None = None
    usage: Usage | None = None


class VideoModel(APIModel):
    """One entry of GET /videos/models."""

    id: str
    name: str = ""
    canonical_slug: str = ""
    created: int = 0
    description: str = ""
    supported_durations: list[int] | None = None
    supported_resolutions: list[str] | None = None
    supported_aspect_ratios: list[str] | None = None
    supported_sizes: list[str] | None = None
    supported_frame_images: list[str] | None = None
    generate_audio: bool | None = None
    seed: bool | None = None
    allowed_passthrough_parameters: list[str] = Field(default_factory=list)
    pricing_skus: dict[str, str] | None = None
    # For upscaling models only; always present (null) in the answer, as the SDK requires.
    creativity: list[int] | None = None
    upscale_factor: dict[str, float | None] | None = None

    @property
    def sizes(self) -> tuple[str, ...]:
        """Every "WxH" the model makes: its sizes, or its resolutions at its aspect ratios."""
        if self.supported_sizes:
            return tuple(self.supported_sizes)
        return tuple(
            size_of(resolution, ratio)
            for resolution in self.supported_resolutions or ()
            for ratio in self.supported_aspect_ratios or ()
            if resolution in RESOLUTIONS and ratio in ASPECT_RATIOS
        )


class ModelList(APIModel):
    data: list[VideoModel]
