"""How real self-hosted servers answer the Videos API differently from the contract.

One frozen description per server, each behaviour read from that server's source (see
docs/servers.md for the files and commits). `openai` is the contract itself and changes
nothing; the others are applied at the request and response edges by `dialect_edge`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import MappingProxyType
from typing import Any, Literal

from bot.simulator.errors import ApiError
from bot.videoapi.models import Operation

DialectName = Literal["openai", "vllm-omni", "sglang", "aquiles", "openrouter"]
# How the server's framework renders an error: the contract's body, FastAPI's default
# `{"detail": ...}`, or vLLM's handler for FastAPI's HTTPException (an OpenAI-like body whose
# `type` is the status phrase and `code` the status number), or OpenRouter's
# `{"error": {"code": <status>, "message"}}`.
ErrorStyle = Literal["openai", "fastapi", "vllm", "openrouter"]
# The five operations every one of these servers routes under /v1/videos.
_CORE = frozenset(
    {Operation.CREATE, Operation.LIST, Operation.RETRIEVE, Operation.DELETE, Operation.DOWNLOAD}
)
_FORMS = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})
_ANY_BODY = _FORMS | {"application/json"}


@dataclass(frozen=True, slots=True)
class Answer:
    """A fixed reply: status, and a JSON body or plain text."""

    status: int
    body: Mapping[str, Any] | str


@dataclass(frozen=True, slots=True)
class Dialect:
    name: DialectName
    new_video_id: Callable[[], str]
    operations: frozenset[Operation] = frozenset(Operation)
    # Media types create reads; any other gets `wrong_encoding`.
    create_encodings: frozenset[str] = _ANY_BODY
    wrong_encoding: Answer | None = None
    # Create fields a JSON body must give as strings, else `wrong_type` (a pydantic error the
    # server does not catch).
    json_string_fields: frozenset[str] = frozenset()
    wrong_type: Answer | None = None
    statuses: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # Progress stays 0 until the job completes, then 100: no steps in between.
    progress_final_only: bool = False
    omitted_fields: frozenset[str] = frozenset()
    always_null: frozenset[str] = frozenset()
    extra_fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    omitted_list_fields: frozenset[str] = frozenset()
    # Delete answers the video itself with status "deleted" instead of a video.deleted object.
    delete_returns_video: bool = False
    ignores_variant: bool = False
    error_style: ErrorStyle = "openai"
    # A server with an API of its own (bot/simulator/openrouter.py): its routes answer in its
    # shapes, so the edge neither refuses nor rewrites anything.
    own_routes: bool = False

    @property
    def is_contract(self) -> bool:
        return self.name == "openai"

    def video(self, body: dict[str, Any]) -> dict[str, Any]:
        """A contract video object as this server shows it."""
        status = body["status"]
        shown = {key: value for key, value in body.items() if key not in self.omitted_fields}
        shown["status"] = self.statuses.get(status, status)
        if self.progress_final_only and "progress" in shown:
            shown["progress"] = 100 if status == "completed" else 0
        shown.update(dict.fromkeys(self.always_null))
        shown.update(self.extra_fields)
        return shown

    def page(self, body: dict[str, Any]) -> dict[str, Any]:
        shown = {k: v for k, v in body.items() if k not in self.omitted_list_fields}
        shown["data"] = [self.video(video) for video in body["data"]]
        return shown

    def error_body(self, error: ApiError) -> dict[str, Any]:
        if self.error_style == "fastapi":
            return {"detail": error.message}
        if self.error_style == "openrouter":
            return {"error": {"code": error.status, "message": error.message}}
        if self.error_style == "vllm":
            phrase = HTTPStatus(error.status).phrase
            return {
                "error": {
                    "message": error.message,
                    "type": phrase,
                    "param": None,
                    "code": error.status,
                }
            }
        return error.body()


def _hex_id(prefix: str, length: int = 32) -> Callable[[], str]:
    return lambda: f"{prefix}{uuid.uuid4().hex[:length]}"


# Starlette's answer to an exception no handler catches (ServerErrorMiddleware).
_UNCAUGHT = Answer(500, "Internal Server Error")

DIALECTS: Mapping[DialectName, Dialect] = MappingProxyType(
    {
        "openai": Dialect(name="openai", new_video_id=_hex_id("video_")),
        # vllm_omni/entrypoints/openai/api_server.py (create_video: Form fields only;
        # _run_video_generation_job: progress set to 100 only on completion) and
        # protocol/videos.py (VideoResponse, id video_gen_<hex>); errors rendered by vLLM's
        # build_app handlers in vllm/entrypoints/serve/utils/server_utils.py.
        "vllm-omni": Dialect(
            name="vllm-omni",
            new_video_id=_hex_id("video_gen_"),
            operations=_CORE,
            create_encodings=_FORMS,
            # A JSON body leaves the Form field `prompt` empty: FastAPI's RequestValidationError,
            # which vLLM's validation_exception_handler turns into a 400.
            wrong_encoding=Answer(
                400,
                {
                    "error": {
                        "message": "1 validation error:\n  {'type': 'missing', 'loc': "
                        "('body', 'prompt'), 'msg': 'Field required', 'input': None}",
                        "type": "Bad Request",
                        "param": "body.prompt",
                        "code": 400,
                    }
                },
            ),
            progress_final_only=True,
            # Never set by the server.
            always_null=frozenset({"expires_at"}),
            extra_fields=MappingProxyType({"quality": "default", "media_type": "video/mp4"}),
            ignores_variant=True,
            error_style="vllm",
        ),
        # python/sglang/multimodal_gen/runtime/entrypoints/openai/video_api.py (statuses
        # queued, completed, failed; progress 0 then 100; delete returns the job with status
        # "deleted"; content ignores variant) and openai/protocol.py (VideoResponse without
        # prompt, VideoListResponse with data and object only); ids are str(uuid4()) from
        # configs/sample/sampling_params.py.
        "sglang": Dialect(
            name="sglang",
            new_video_id=lambda: str(uuid.uuid4()),
            operations=_CORE,
            statuses=MappingProxyType({"in_progress": "queued"}),
            progress_final_only=True,
            omitted_fields=frozenset({"prompt"}),
            always_null=frozenset({"expires_at"}),
            extra_fields=MappingProxyType({"quality": "standard"}),
            omitted_list_fields=frozenset({"first_id", "last_id", "has_more"}),
            delete_returns_video=True,
            ignores_variant=True,
            error_style="fastapi",
        ),
        # aquilesimage/main.py (routes; create reads JSON into CreateVideoBody or multipart),
        # aquilesimage/models/models.py (VideoStatus queued/processing/completed/failed;
        # VideoResource without completed_at, expires_at, remixed_from_video_id; seconds: str)
        # and aquilesimage/utils/task.py (ids video_<12 hex>).
        "aquiles": Dialect(
            name="aquiles",
            new_video_id=_hex_id("video_", 12),
            operations=_CORE,
            json_string_fields=frozenset({"seconds"}),
            wrong_type=_UNCAUGHT,
            statuses=MappingProxyType({"in_progress": "processing"}),
            omitted_fields=frozenset({"completed_at", "expires_at", "remixed_from_video_id"}),
            extra_fields=MappingProxyType({"quality": "standard"}),
            ignores_variant=True,
            error_style="fastapi",
        ),
        # Not the contract: its own paths and bodies, served by bot/simulator/openrouter.py
        # (which names its sources); ids like the spec's `job-abc123`.
        "openrouter": Dialect(
            name="openrouter",
            new_video_id=_hex_id("job-", 24),
            operations=frozenset({Operation.CREATE, Operation.RETRIEVE, Operation.DOWNLOAD}),
            error_style="openrouter",
            own_routes=True,
        ),
    }
)
