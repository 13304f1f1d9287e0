"""The contract's composite inputs: a reference image for create, a source video for edit/extend."""

from __future__ import annotations

import asyncio
import base64
import binascii
from dataclasses import dataclass

from bot.simulator.errors import invalid, missing
from bot.simulator.forms import FilePart, Reference
from bot.simulator.media import probe_image, probe_video
from bot.simulator.state import SimulatorState


@dataclass(frozen=True, slots=True)
class Source:
    """What a derived video inherits from its source."""

    model: str
    size: str
    seconds: str
    # None when the source was uploaded rather than generated here.
    video_id: str | None


async def check_reference_image(value: FilePart | Reference | None, size: str) -> None:
    """Real providers refuse a reference image whose size differs from the video's."""
    if value is None:
        return
    data = value.data if isinstance(value, FilePart) else _reference_image_data(value)
    if data is None:
        return
    try:
        width, height = await asyncio.to_thread(probe_image, data)
    except ValueError as error:
        raise invalid(str(error), param="input_reference") from error
    if f"{width}x{height}" != size:
        raise invalid(
            f"input_reference must be {size} to match the requested size, not {width}x{height}.",
            param="input_reference",
        )


def _reference_image_data(reference: Reference) -> bytes | None:
    """The image inside a data URL; None for a remote URL or file id, which cannot be checked."""
    given = {key: value for key, value in reference.items() if key in ("image_url", "file_id")}
    if len(given) != 1 or len(given) != len(reference):
        raise invalid(
            "input_reference must have exactly one of 'image_url' or 'file_id'.",
            param="input_reference",
        )
    key, value = next(iter(given.items()))
    if not isinstance(value, str) or not value:
        raise invalid(f"input_reference.{key} must be a non-empty string.", param="input_reference")
    if key != "image_url" or not value.startswith("data:"):
        return None
    header, _, payload = value.partition(",")
    if not header.endswith(";base64"):
        raise invalid(
            "input_reference.image_url must be a base64 data URL.", param="input_reference"
        )
    try:
        return base64.b64decode(payload, validate=True)
    except binascii.Error as error:
        raise invalid(
            "input_reference.image_url holds invalid base64.", param="input_reference"
        ) from error


async def source_video(state: SimulatorState, value: FilePart | Reference | None) -> Source:
    """The completed video named by `{"id": ...}`, or an uploaded clip."""
    if value is None:
        raise missing("video")
    if isinstance(value, dict):
        video_id = value.get("id")
        if not isinstance(video_id, str) or set(value) != {"id"}:
            raise invalid("video must be an object with a string 'id'.", param="video")
        job = state.completed_job(video_id, param="video")
        return Source(job.model, job.size, job.seconds, job.id)
    try:
        width, height, duration = await asyncio.to_thread(probe_video, value.data)
    except ValueError as error:
        raise invalid(str(error), param="video") from error
    profile = state.config.profile
    size = f"{width}x{height}"
    return Source(
        model=profile.default_model,
        # An upload of a size the provider does not make comes back at its default size.
        size=size if size in profile.sizes else profile.default_size,
        seconds=str(max(1, round(duration))),
        video_id=None,
    )


async def check_video_upload(value: FilePart | Reference | None) -> None:
    """A character's clip must be an uploaded, readable video."""
    if value is None:
        raise missing("video")
    if not isinstance(value, FilePart):
        raise invalid("video must be an uploaded video file.", param="video")
    try:
        await asyncio.to_thread(probe_video, value.data)
    except ValueError as error:
        raise invalid(str(error), param="video") from error
