"""Typed mirrors of the Videos API's objects and of the inputs the client sends."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

from bot.videoapi.lenient import VideoStatus as VideoStatus
from bot.videoapi.lenient import read_int, video_fields

ContentVariant = Literal["video", "thumbnail", "spritesheet"]
ListOrder = Literal["asc", "desc"]

FINISHED_STATUSES: frozenset[str] = frozenset({"completed", "failed"})
# A provider's error text is stored with the job and shown on its card; no more of it is kept.
ERROR_TEXT_KEPT = 1000


class Operation(StrEnum):
    """The contract's ten operations; a provider may lack any of them."""

    CREATE = "create"
    EDIT = "edit"
    EXTEND = "extend"
    REMIX = "remix"
    CREATE_CHARACTER = "create_character"
    GET_CHARACTER = "get_character"
    LIST = "list"
    RETRIEVE = "retrieve"
    DELETE = "delete"
    DOWNLOAD = "download"


class ResponseMeta(BaseModel):
    """What the HTTP response said besides its body."""

    request_id: str | None = None
    poll_after_ms: int | None = None
    # The provider's request budget: what is left of it, and seconds until it is full again
    # (OpenAI's x-ratelimit-*-requests headers), and the wait a 429 asked for (Retry-After).
    ratelimit_remaining_requests: int | None = None
    ratelimit_reset_requests_s: float | None = None
    retry_after_s: float | None = None


class APIModel(BaseModel):
    # Providers add fields of their own: ignored rather than refused, and never kept, so an
    # answer's size is all a server can make the bot hold.
    model_config = ConfigDict(extra="ignore", frozen=True)

    _meta: ResponseMeta = PrivateAttr(default_factory=ResponseMeta)

    @property
    def meta(self) -> ResponseMeta:
        return self._meta


class VideoError(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    code: str
    message: str

    @field_validator("code", "message")
    @classmethod
    def _bounded(cls, value: str) -> str:
        return value[:ERROR_TEXT_KEPT]


class Video(APIModel):
    """A video job as the contract describes it, read tolerantly from any server's dialect.

    Fields a server may leave out (model, size, seconds, created_at) are None then; `status` is
    always one of the contract's four, and `progress` is derived from it when not sent.
    """

    id: str
    object: Literal["video"] = "video"
    model: str | None = None
    status: VideoStatus
    progress: int = 0
    created_at: int | None = None
    completed_at: int | None = None
    expires_at: int | None = None
    prompt: str | None = None
    size: str | None = None
    seconds: str | None = None
    remixed_from_video_id: str | None = None
    error: VideoError | None = None

    _unknown_status: str | None = PrivateAttr(default=None)
    # What the job cost in USD, when the provider reports it (OpenRouter's `usage.cost`): the
    # ledger settles at it instead of seconds x price. Not the contract's, so never dumped.
    _cost: float | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _read_dialect(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> Video:
        unknown = None
        if isinstance(data, dict):
            data, unknown = video_fields(data)
        video: Video = handler(data)
        video._unknown_status = unknown
        return video

    @property
    def finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def cost(self) -> float | None:
        return self._cost

    def with_cost(self, cost: float | None) -> Video:
        """This video, reporting that the provider charged `cost` USD for it."""
        self._cost = cost
        return self

    @property
    def unknown_status(self) -> str | None:
        """The server's own word for a status the bot does not know (read as still running)."""
        return self._unknown_status


class VideoPage(APIModel):
    object: Literal["list"] = "list"
    data: list[Video]
    first_id: str | None = None
    last_id: str | None = None
    has_more: bool = False


class DeletedVideo(APIModel):
    object: Literal["video.deleted"] = "video.deleted"
    deleted: bool
    id: str


class Character(APIModel):
    id: str | None = None
    name: str | None = None
    created_at: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _read_dialect(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**data, "created_at": read_int(data.get("created_at"))}
        return data


class ImageReference(BaseModel):
    """A reference image given by URL (or data URL) or by an uploaded file's id."""

    model_config = ConfigDict(frozen=True)

    image_url: str | None = None
    file_id: str | None = None

    def model_post_init(self, __context: object) -> None:
        if (self.image_url is None) == (self.file_id is None):
            raise ValueError("give exactly one of image_url or file_id")


@dataclass(frozen=True, slots=True)
class Upload:
    """A named file to send: bytes in memory, or a path streamed from disk.

    A multipart part to the provider, and (through `bot.delivery.files.discord_file`) an
    attachment to Discord.
    """

    filename: str
    content_type: str
    data: bytes | Path

    @property
    def size(self) -> int:
        return len(self.data) if isinstance(self.data, bytes) else self.data.stat().st_size

    @property
    def is_video(self) -> bool:
        return self.content_type.startswith("video/")
