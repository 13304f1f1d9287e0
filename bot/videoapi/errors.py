"""One exception class per kind of failure; none of them ever carries the API key."""

from __future__ import annotations

from typing import Any

from bot.videoapi.models import Operation, ResponseMeta


class VideoAPIError(Exception):
    """Base of every error the client raises."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        code: str | None = None,
        body: Any = None,
        meta: ResponseMeta | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.request_id = request_id
        self.code = code
        self.body = body
        # The error response's headers, read: a 429's Retry-After and rate-limit state.
        self.meta = meta or ResponseMeta(request_id=request_id)


class InvalidParameterError(VideoAPIError, ValueError):
    """An input the provider profile does not allow; raised before any request is sent."""

    def __init__(self, param: str, message: str) -> None:
        super().__init__(message, code="invalid_parameter")
        self.param = param


class UnsupportedOperationError(VideoAPIError):
    """The provider does not serve this operation at all (404/405/501 on its route)."""

    def __init__(self, operation: Operation, *, status: int | None = None) -> None:
        super().__init__(f"{operation.value} is not supported by this provider", status=status)
        self.operation = operation


class APIConnectionError(VideoAPIError):
    """The request did not get an answer: refused, reset, DNS, TLS."""


class APITimeoutError(APIConnectionError):
    """The request timed out."""


class ResponseRefusedError(VideoAPIError):
    """An answer the client will not take: asking again brings the same answer."""


class ResponseTooLargeError(ResponseRefusedError):
    """The answer is larger than the client reads (a download's cap, a JSON answer's cap)."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class RedirectRefusedError(ResponseRefusedError):
    """A redirect to an address the bot never fetches from (loopback, private, link-local)."""


class APIStatusError(VideoAPIError):
    """The server answered with an error status."""

    def __str__(self) -> str:
        parts = [self.message, f"(status {self.status}"]
        if self.code:
            parts.append(f", code {self.code}")
        if self.request_id:
            parts.append(f", request {self.request_id}")
        return "".join([parts[0], " ", *parts[1:], ")"])


class BadRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class PermissionDeniedError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class UnprocessableEntityError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    pass


class InternalServerError(APIStatusError):
    pass


class ModelUnavailableError(APIStatusError):
    """The provider refused a create because of its model: retired, or never known there.

    A 404 (or a 400) that names a model is about that model, never a missing route.
    """

    def __init__(
        self, model: str, message: str, *, status: int | None = None, request_id: str | None = None
    ) -> None:
        super().__init__(message, status=status, request_id=request_id, code="model_unavailable")
        self.model = model


STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def error_class_for(status: int) -> type[APIStatusError]:
    if status >= 500:
        return InternalServerError
    return STATUS_ERRORS.get(status, APIStatusError)
