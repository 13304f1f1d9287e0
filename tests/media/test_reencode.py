"""Re-encoding an MP4 to fit a byte limit, on real files made with PyAV."""

from __future__ import annotations

import struct
from pathlib import Path

import av
import pytest

from bot.media import reencode as reencode_module
from bot.media.frames import DecodeLimits
from bot.media.pool import MediaPool
from bot.media.reencode import CannotFit, Plan, reencode
from bot.simulator.media import pad_mp4, write_noisy_video

KIB = 1024
SIZE = "640x368"
SECONDS = 3.0


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Noisy 3 s clips (they compress badly, like real renders): AAC at 128 kb/s (copied),
    AAC at 256 kb/s (re-encoded), and no audio."""
    folder = tmp_path_factory.mktemp("clips")
    made = {}
    for name, audio in (("aac128", 128_000), ("aac256", 256_000), ("silent", None)):
        made[name] = folder / f"{name}.mp4"
        write_noisy_video(made[name], SIZE, SECONDS, audio_bitrate=audio)
    return made


def top_level_boxes(path: Path) -> list[str]:
    boxes = []
    with path.open("rb") as file:
        while header := file.read(8):
            size, kind = struct.unpack(">I4s", header)
            if size == 1:
                size = struct.unpack(">Q", file.read(8))[0] - 8
            boxes.append(kind.decode())
            file.seek(size - 8, 1)
    return boxes


def described(path: Path) -> dict[str, object]:
    """What a player sees: codecs, picture, every frame decoded, duration."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = [s.codec_context.name for s in container.streams.audio]
        frames = sum(1 for _ in container.decode(video=0))
        return {
            "codec": video.codec_context.name,
            "pix_fmt": video.codec_context.pix_fmt,
            "size": (video.codec_context.width, video.codec_context.height),
            "frames": frames,
            "duration": (container.duration or 0) / 1_000_000,
            "audio": audio,
        }


@pytest.mark.parametrize(
    ("clip", "audio", "codecs"),
    [("aac128", "copied", ["aac"]), ("aac256", "encoded", ["aac"]), ("silent", "none", [])],
)
async def test_fits_the_limit_as_playable_faststart_h264(
    clips: dict[str, Path], tmp_path: Path, clip: str, audio: str, codecs: list[str]
) -> None:
    source = clips[clip]
    limit = source.stat().st_size // 2
    before = described(source)

    done = await MediaPool().reencode(source, tmp_path / "out.mp4", limit)

    assert done.path.stat().st_size == done.size <= limit
    after = described(done.path)
    assert (after["codec"], after["pix_fmt"]) == ("h264", "yuv420p")
    assert after["size"] == before["size"] == (done.width, done.height)
    assert after["frames"] == before["frames"]
    assert abs(float(after["duration"]) - float(before["duration"])) < 0.5  # type: ignore[arg-type]
    assert after["audio"] == codecs
    assert done.audio == audio
    boxes = top_level_boxes(done.path)
    assert boxes.index("moov") < boxes.index("mdat")
    assert not (tmp_path / "partial-out.mp4").exists()


def test_a_thin_bitrate_scales_the_picture_down(clips: dict[str, Path], tmp_path: Path) -> None:
    # 130 KiB for 3 s is ~0.04 bits per pixel per frame at 640x368: below the floor.
    done = reencode(clips["silent"], tmp_path / "out.mp4", 130 * KIB)

    assert done.size <= 130 * KIB
    assert (done.width, done.height) < (640, 368)
    assert done.width % 2 == done.height % 2 == 0
    assert done.width / done.height == pytest.approx(640 / 368, rel=0.01)
    after = described(done.path)
    assert after["size"] == (done.width, done.height)
    assert after["frames"] == described(clips["silent"])["frames"]


def test_an_overshoot_is_retried_once_at_a_bitrate_lowered_by_it(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = clips["aac128"].stat().st_size // 2
    plans: list[Plan] = []
    encode = reencode_module._encode

    def overshooting_once(source: Path, target: Path, chosen: Plan, limits: DecodeLimits) -> None:
        plans.append(chosen)
        encode(source, target, chosen, limits)
        if len(plans) == 1:
            pad_mp4(target, limit * 2)

    monkeypatch.setattr(reencode_module, "_encode", overshooting_once)
    done = reencode(clips["aac128"], tmp_path / "out.mp4", limit)

    assert done.attempts == 2
    assert done.size <= limit
    first, second = plans
    lowered = first.video_bitrate * reencode_module.TARGET_SHARE / 2
    assert second.video_bitrate == pytest.approx(lowered, abs=1)
    assert second.audio == first.audio == "copied"


def test_a_second_overshoot_cannot_fit(
    clips: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    limit = clips["silent"].stat().st_size // 2
    encode = reencode_module._encode

    def overshooting(source: Path, target: Path, chosen: Plan, limits: DecodeLimits) -> None:
        encode(source, target, chosen, limits)
        pad_mp4(target, limit + 1024)

    monkeypatch.setattr(reencode_module, "_encode", overshooting)
    with pytest.raises(CannotFit, match="twice, over the"):
        reencode(clips["silent"], tmp_path / "out.mp4", limit)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("clip", "limit", "reason"),
    [
        ("aac128", 40 * KIB, "the audio alone needs more than"),
        ("silent", 60 * KIB, "would be smaller than 240p"),
    ],
)
def test_what_cannot_fit_says_why_and_writes_nothing(
    clips: dict[str, Path], tmp_path: Path, clip: str, limit: int, reason: str
) -> None:
    with pytest.raises(CannotFit, match=reason):
        reencode(clips[clip], tmp_path / "out.mp4", limit)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_not_a_video_cannot_fit(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(CannotFit, match="not a readable video"):
        reencode(junk, tmp_path / "out.mp4", 10 * KIB * KIB)


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        pytest.param(DecodeLimits(max_pixels=640 * 368 - 1), "640x368, over the", id="pixels"),
        pytest.param(DecodeLimits(max_seconds=2.0), "3 s long, over the 2 s", id="seconds"),
    ],
)
def test_a_source_over_the_decode_limits_is_refused_before_any_encode(
    clips: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    limits: DecodeLimits,
    reason: str,
) -> None:
    def encoded(*args: object) -> None:
        raise AssertionError("a frame was decoded")

    monkeypatch.setattr(reencode_module, "_encode", encoded)
    with pytest.raises(CannotFit, match=reason):
        reencode(clips["silent"], tmp_path / "out.mp4", 100 * KIB, limits)
    assert list(tmp_path.iterdir()) == []
