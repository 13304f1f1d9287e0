"""What the tracker, jobs, delivery and commands use of a provider, whatever its wire format.

`VideoClient` speaks the OpenAI contract; `OpenRouterClient` speaks OpenRouter's own API.
Both answer in the contract's models (`Video`, `VideoPage`...), so nothing past this line knows
which one it talks to; what a backend cannot do is in its capabilities, known from the start.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import httpx

from bot.videoapi.capabilities import Capabilities
from bot.videoapi.client import DownloadResult
from bot.videoapi.models import (
    Character,
    ContentVariant,
    DeletedVideo,
    ImageReference,
    ListOrder,
    Operation,
    Upload,
    Video,
    VideoPage,
)
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.wire import RequestBody


class VideoBackend(Protocol):
    """One provider: make and derive jobs, look at them, fetch their files, and say what it
    serves (`capabilities`) and accepts (`profile`: models, seconds, sizes, prices)."""

    @property
    def profile(self) -> ProviderProfile: ...
    @property
    def capabilities(self) -> Capabilities: ...
    @property
    def base_url(self) -> str: ...
    @property
    def unsupported(self) -> frozenset[Operation]: ...
    def supports(self, operation: Operation) -> bool | None: ...

    async def create(
        self,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: str | int | None = None,
        input_reference: ImageReference | Upload | None = None,
    ) -> Video: ...

    # Derived jobs name their source; `model` is the source's (a backend that must name the
    # model again, as OpenRouter does, sends it).
    async def edit(
        self, video: str | Upload, prompt: str, *, model: str | None = None
    ) -> Video: ...
    async def extend(
        self, video: str | Upload, prompt: str, seconds: str | int, *, model: str | None = None
    ) -> Video: ...
    async def remix(self, video_id: str, prompt: str, *, model: str | None = None) -> Video: ...

    async def create_character(self, name: str, video: Upload) -> Character: ...
    async def get_character(self, character_id: str) -> Character: ...
    async def list(
        self, *, after: str | None = None, limit: int | None = None, order: ListOrder | None = None
    ) -> VideoPage: ...
    async def retrieve(self, video_id: str) -> Video: ...
    async def delete(self, video_id: str) -> DeletedVideo: ...
    async def download(
        self, video_id: str, dest: Path, *, variant: ContentVariant = "video"
    ) -> DownloadResult: ...

    async def request(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        body: RequestBody | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response: ...

    async def aclose(self) -> None: ...
