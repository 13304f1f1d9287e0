"""Re-encode an MP4 to fit a byte limit: H.264 (yuv420p, faststart) with its AAC audio kept.

The video bitrate comes from the duration and the limit, less a margin for the container and the
audio; when that bitrate is too thin for the source's resolution the picture is scaled down
instead, and below about 240p the file cannot fit (`CannotFit`). Frames stream from the source
file to the output file one at a time, so memory stays flat whatever the file's size.

Untrusted bytes: a source above `DecodeLimits` (dimensions, duration) is refused from its metadata
before any frame is decoded. Blocking, and bounded in memory and time only by its process: the bot
runs it in the media pool (bot/media/pool.py). PyAV is imported on first use only.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Literal

from bot.media.frames import DEFAULT_LIMITS, DecodeLimits

# Share of the limit the encoder aims at. MP4's index costs a few bytes per frame, and one-pass
# ABR lands within a few percent of its target on short clips; the rest is that margin.
TARGET_SHARE: Final = 0.92
MUX_OVERHEAD_BYTES: Final = 32 * 1024
# AAC-LC at 96 kb/s is clean for stereo speech and music, and small next to any video budget.
AUDIO_BITRATE: Final = 96_000
# An AAC track up to this rate is copied as it is: no generation loss, no encode time.
COPY_AUDIO_MAX_BITRATE: Final = 160_000
# Bits per pixel per frame below which H.264 shows blocks and banding at normal viewing sizes.
# The Kush gauge puts low-motion video at 0.07; x264's psychovisual tuning buys back a little,
# so 0.05: under it a smaller picture at this density looks better than a blocky full-size one.
MIN_BITS_PER_PIXEL: Final = 0.05
# The smallest picture worth sending (240p); a clip that would need less cannot fit.
MIN_SHORT_SIDE: Final = 240
# When the source does not say its frame rate.
FALLBACK_FPS: Final = 30.0
# veryfast keeps a 12 s 1792x1024 clip to seconds on two cores. No B-frames and no lookahead: x264
# then holds a frame or two instead of a dozen (about +75 MiB at 1792x1024 instead of +165), for
# some 10-15 % of efficiency that the bitrate target pays for in quality, not in size.
X264_OPTIONS: Final = {"preset": "veryfast", "bf": "0", "rc-lookahead": "0"}
X264_THREADS: Final = 2

AudioAction = Literal["copied", "encoded", "none"]


class CannotFit(Exception):
    """Even the smallest sensible encoding of the video exceeds the limit; the message says why."""


@dataclass(frozen=True, slots=True)
class Plan:
    width: int
    height: int
    video_bitrate: int
    audio: AudioAction


@dataclass(frozen=True, slots=True)
class Reencoded:
    path: Path
    size: int
    width: int
    height: int
    video_bitrate: int
    audio: AudioAction
    seconds: float  # the time the encode took
    attempts: int


@dataclass(frozen=True, slots=True)
class Source:
    """What the plan needs to know about the input."""

    width: int
    height: int
    duration: float
    fps: float
    video_bitrate: int | None
    audio_codec: str | None
    audio_bitrate: int | None


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)


def plan(source: Source, limit: int) -> Plan:
    """The encoding that fits `limit` bytes, or CannotFit saying what does not."""
    if source.duration <= 0:
        raise CannotFit("the video has no duration to spread a bitrate over")
    budget = (limit * TARGET_SHARE - MUX_OVERHEAD_BYTES) * 8 / source.duration
    audio: AudioAction = "none"
    audio_bitrate = 0
    if source.audio_codec is not None:
        copied = source.audio_codec == "aac" and (source.audio_bitrate or math.inf) <= min(
            COPY_AUDIO_MAX_BITRATE, budget / 2
        )
        audio = "copied" if copied else "encoded"
        audio_bitrate = (source.audio_bitrate or 0) if copied else AUDIO_BITRATE
    video_bitrate = budget - audio_bitrate
    if video_bitrate <= 0:
        raise CannotFit(
            f"the audio alone needs more than {_mib(limit)} for {source.duration:.1f} s"
        )
    if source.video_bitrate:
        # More bits than the source has buy nothing.
        video_bitrate = min(video_bitrate, source.video_bitrate)
    return _sized(source, int(video_bitrate), audio, limit)


def replan(source: Source, previous: Plan, size: int, limit: int) -> Plan:
    """After an encode of `size` bytes overshot: its video bitrate, lowered by the overshoot."""
    lowered = int(previous.video_bitrate * limit * TARGET_SHARE / size)
    return _sized(source, lowered, previous.audio, limit)


def _sized(source: Source, video_bitrate: int, audio: AudioAction, limit: int) -> Plan:
    """The source's resolution if `video_bitrate` is dense enough for it, else a smaller one."""
    width, height = source.width, source.height
    bpp = video_bitrate / (width * height * source.fps)
    if bpp < MIN_BITS_PER_PIXEL:
        scale = math.sqrt(bpp / MIN_BITS_PER_PIXEL)
        if min(width, height) * scale < min(MIN_SHORT_SIDE, width, height):
            raise CannotFit(
                f"{source.duration:.1f} s of video in {_mib(limit)} would be smaller "
                f"than {MIN_SHORT_SIDE}p"
            )
        width, height = _even(width * scale), _even(height * scale)
    return Plan(width, height, video_bitrate, audio)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _probe(container: Any) -> Source:
    video = container.streams.video[0]
    audio = container.streams.audio[0] if container.streams.audio else None
    if container.duration is not None:
        duration = container.duration / 1_000_000
    elif video.duration is not None and video.time_base is not None:
        duration = float(video.duration * video.time_base)
    else:
        duration = 0.0
    rate = video.average_rate or video.guessed_rate
    return Source(
        width=video.codec_context.width,
        height=video.codec_context.height,
        duration=duration,
        fps=float(rate) if rate else FALLBACK_FPS,
        video_bitrate=video.bit_rate or None,
        audio_codec=audio.codec_context.name if audio is not None else None,
        audio_bitrate=(audio.bit_rate or None) if audio is not None else None,
    )


def _encode(source_path: Path, target: Path, chosen: Plan, limits: DecodeLimits) -> None:
    """One pass from `source_path` to `target`, frame by frame."""
    import av

    with (
        av.open(str(source_path), mode="r") as source,
        av.open(str(target), mode="w", format="mp4", options={"movflags": "+faststart"}) as out,
    ):
        in_video = source.streams.video[0]
        rate = in_video.average_rate or in_video.guessed_rate or Fraction(FALLBACK_FPS)
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = chosen.width, chosen.height, "yuv420p"
        video.bit_rate = chosen.video_bitrate
        if in_video.time_base is not None:
            # The source's timestamps, unchanged: frames keep their timing and stay in sync.
            video.codec_context.time_base = in_video.time_base
        video.thread_count = X264_THREADS
        video.options = dict(X264_OPTIONS)
        in_audio = source.streams.audio[0] if chosen.audio != "none" else None
        copied: av.audio.stream.AudioStream | None = None
        encoded: av.audio.stream.AudioStream | None = None
        if in_audio is not None and chosen.audio == "copied":
            copied = out.add_stream_from_template(in_audio)
        elif in_audio is not None:
            encoded = out.add_stream("aac", rate=in_audio.codec_context.sample_rate)
            encoded.layout = in_audio.codec_context.layout
            encoded.bit_rate = AUDIO_BITRATE
        streams = (in_video,) if in_audio is None else (in_video, in_audio)
        for packet in source.demux(*streams):
            if packet.stream is in_video:
                for frame in in_video.decode(packet):
                    # The header may understate the picture: each frame is checked too.
                    refused = limits.refusal(frame.width, frame.height)
                    if refused is not None:
                        raise CannotFit(refused)
                    out.mux(video.encode(frame.reformat(chosen.width, chosen.height, "yuv420p")))
            elif copied is not None:
                if packet.dts is not None:  # the demuxer's flush packet carries nothing
                    packet.stream = copied
                    out.mux(packet)
            elif encoded is not None and in_audio is not None:
                for sound in in_audio.decode(packet):
                    out.mux(encoded.encode(sound))
        out.mux(video.encode(None))
        if encoded is not None:
            out.mux(encoded.encode(None))


def reencode(
    source: Path, target: Path, limit: int, limits: DecodeLimits = DEFAULT_LIMITS
) -> Reencoded:
    """Write `source` re-encoded to `target` in under `limit` bytes; CannotFit when it cannot.

    One pass; if it overshoots, a second one at a bitrate lowered by the overshoot. A source
    above `limits` cannot fit either: it is not decoded at all.
    """
    import av

    started = time.monotonic()
    try:
        with av.open(str(source), mode="r") as container:
            if not container.streams.video:
                raise CannotFit(f"{source.name} has no video stream")
            described = _probe(container)
    except av.FFmpegError as error:
        raise CannotFit(f"{source.name} is not a readable video") from error
    refused = limits.refusal(described.width, described.height, described.duration)
    if refused is not None:
        raise CannotFit(refused)
    chosen = plan(described, limit)
    partial = target.with_name(f"partial-{target.name}")
    try:
        for attempt in (1, 2):
            _encode(source, partial, chosen, limits)
            size = partial.stat().st_size
            if size <= limit:
                os.replace(partial, target)
                return Reencoded(
                    path=target,
                    size=size,
                    width=chosen.width,
                    height=chosen.height,
                    video_bitrate=chosen.video_bitrate,
                    audio=chosen.audio,
                    seconds=time.monotonic() - started,
                    attempts=attempt,
                )
            if attempt == 1:
                chosen = replan(described, chosen, size, limit)
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    raise CannotFit(f"the encode came out at {_mib(size)} twice, over the {_mib(limit)} limit")
