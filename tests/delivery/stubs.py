"""Stand-ins for the provider's files and the re-encoder, shared by the delivery tests."""

from __future__ import annotations

from pathlib import Path

from bot.media.reencode import CannotFit
from bot.videoapi.errors import NotFoundError
from bot.videoapi.models import ContentVariant


def write(path: Path, size: int) -> None:
    path.write_bytes(b"\0" * size)


class StubAssets:
    """Writes each variant at the size given; the provider's files may be gone, or fail first."""

    def __init__(
        self,
        sizes: dict[ContentVariant, int],
        *,
        gone: bool = False,
        failures: list[Exception] | None = None,
    ) -> None:
        self.sizes = sizes
        self.gone = gone
        self.failures = failures or []
        self.fetched: list[tuple[str, ContentVariant, str, Path | None]] = []

    async def fetch(
        self,
        video_id: str,
        variant: ContentVariant,
        dest: Path,
        *,
        source: Path | None = None,
        provider: str | None = None,
    ) -> Path:
        self.fetched.append((video_id, variant, dest.name, source))
        if self.failures:
            raise self.failures.pop(0)
        if self.gone:
            raise NotFoundError("no such video", status=404)
        write(dest, self.sizes[variant])
        return dest


class StubFit:
    """Re-encodes to `result` bytes, or cannot fit at all."""

    def __init__(self, result: int | None) -> None:
        self._result = result
        self.calls: list[tuple[Path, Path, int]] = []

    async def __call__(self, source: Path, dest: Path, limit: int) -> None:
        self.calls.append((source, dest, limit))
        if self._result is None:
            raise CannotFit("below 240p")
        write(dest, self._result)
