"""Errors in OpenAI's JSON shape, raised anywhere in a handler and rendered by one middleware."""

from __future__ import annotations

from typing import Any, Literal

from bot.videoapi.errors import InvalidParameterError


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        error_type: str = "invalid_request_error",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code
        self.error_type = error_type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }

    @classmethod
    def from_invalid(cls, error: InvalidParameterError) -> ApiError:
        return cls(400, error.message, param=error.param, code="invalid_value")


def invalid(message: str, *, param: str | None = None, code: str = "invalid_value") -> ApiError:
    return ApiError(400, message, param=param, code=code)


def missing(param: str) -> ApiError:
    return ApiError(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


def not_found(kind: str, object_id: str, *, param: str) -> ApiError:
    return ApiError(404, f"No {kind} found with id '{object_id}'.", param=param)


# Refusals of a create that made nothing, as real providers word them (bot/videoapi/refusals.py):
# credits out (402) and a server that did not accept the job (503 saying so).
CreateRefusal = Literal["credits", "not_accepted"]


def refused_create(refusal: CreateRefusal) -> ApiError:
    if refusal == "credits":
        return ApiError(
            402,
            "Insufficient credits. Add more credits to your account to create videos.",
            code="insufficient_credits",
            error_type="insufficient_quota",
        )
    return ApiError(
        503,
        "The job was not accepted: no capacity right now. Nothing was created.",
        code="not_accepted",
        error_type="server_error",
    )
