"""The async client of the OpenAI Videos API contract: one method per operation.

Inputs are checked against the provider profile before anything is sent; answers become the
models of `models.py` or the errors of `errors.py`; media are streamed, never held in memory.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import ExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self, TypeVar
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from bot.timing.backoff import Backoff
from bot.videoapi.capabilities import (
    Capabilities,
    names_gone_model,
    route_answered,
    route_missing,
    says_unsupported,
)
from bot.videoapi.errors import (
    APIStatusError,
    APITimeoutError,
    InvalidParameterError,
    ModelUnavailableError,
    RedirectRefusedError,
    ResponseTooLargeError,
    UnsupportedOperationError,
    VideoAPIError,
    error_class_for,
)
from bot.videoapi.files import save_atomically
from bot.videoapi.models import (
    APIModel,
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
from bot.videoapi.profile import ProviderProfile, check_character_name, check_prompt
from bot.videoapi.redirects import RedirectGuard, Resolver, resolve_host
from bot.videoapi.retry import retry_after, should_retry_error, should_retry_status
from bot.videoapi.wire import (
    JSONObject,
    Multipart,
    RequestBody,
    api_error,
    as_multipart,
    connection_error,
    detail_of,
    from_a_handler,
    json_or_none,
    multipart_parts,
    read_capped,
    response_meta,
)

log = logging.getLogger(__name__)

Model = TypeVar("Model", bound=APIModel)

LIST_LIMIT_MAX = 100
ERROR_TEXT_LIMIT = 500
MIB = 1 << 20
DOWNLOAD_CHUNK = MIB
# Well above the largest video a provider makes (a 20 s 1080p clip is tens of MiB).
DOWNLOAD_LIMIT = 1024 * MIB
# The whole download, redirects and retries included: the per-read timeout alone lets a body
# that drips a byte a second run for ever.
DOWNLOAD_TIMEOUT = 600.0
# A JSON answer is a hundred videos at most; a larger one is a broken or hostile server, and
# parsing it whole would cost memory (about five times its size) for nothing.
ANSWER_LIMIT = 8 * MIB
MAX_REDIRECTS = 5
UNSUPPORTED_MEDIA_TYPE = 415
RATE_LIMITED = 429
REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    path: str
    body: RequestBody | None = None
    params: Mapping[str, str | int] | None = None
    # Whether the answer teaches what the provider serves. A missing thumbnail says nothing
    # about the route: many servers lack the variant but serve the MP4 on the same path.
    learns: bool = True
    # The model a create asks for: a refusal that names a model is about this one.
    model: str | None = None


class _Answer(NamedTuple):
    response: httpx.Response
    # The body of a successful answer that is not streamed; empty for a stream.
    body: bytes


@dataclass(frozen=True, slots=True)
class DownloadResult:
    path: Path
    content_type: str | None
    size: int


def announced_length(response: httpx.Response) -> int | None:
    """The body's length as the headers give it, if they give the length of what is read."""
    length = response.headers.get("content-length", "")
    # A compressed body's length is not the length of the bytes handed out.
    encoded = "content-encoding" in response.headers
    return int(length) if length.isdigit() and not encoded else None


class ContentStream:
    """A media asset being received: its type, its announced length, and its bytes."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response
        self.content_type: str | None = response.headers.get("content-type")
        self.content_length = announced_length(response)

    async def aiter_bytes(self, chunk_size: int | None = None) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.aiter_bytes(chunk_size):
                yield chunk
        except httpx.RequestError as exc:
            raise connection_error(exc) from exc


class VideoClient:
    """One provider, one connection pool, and what has been learned of its capabilities."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        *,
        profile: ProviderProfile | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        rate_limit_retries: int = 5,
        backoff: Backoff | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        download_limit: int = DOWNLOAD_LIMIT,
        download_timeout: float = DOWNLOAD_TIMEOUT,
        resolve: Resolver = resolve_host,
    ) -> None:
        self.profile = profile or ProviderProfile()
        self.capabilities = Capabilities()
        # What the preset says this server lacks is known before the first request.
        for operation in self.profile.missing:
            self.capabilities.record(operation, served=False)
        self._multipart = self.profile.body == "multipart"
        self._api_key = api_key if api_key is not None and api_key.get_secret_value() else None
        self._max_retries = max_retries
        # A 429 on a billable POST made nothing: waiting it out is safe and spares the user
        # running the command again. Reads keep the short budget: the tracker paces itself.
        self._rate_limit_retries = max(max_retries, rate_limit_retries)
        self._backoff = backoff or Backoff()
        headers = {}
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key.get_secret_value()}"
        self._http = httpx.AsyncClient(
            base_url=base_url, headers=headers, timeout=timeout, transport=transport
        )
        self._download_limit = download_limit
        self._download_timeout = download_timeout
        self._redirects = RedirectGuard(self._http.base_url.host, resolve)

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def supports(self, operation: Operation) -> bool | None:
        """True or False once the provider's answers have shown it; None until then."""
        return self.capabilities.supports(operation)

    @property
    def unsupported(self) -> frozenset[Operation]:
        return self.capabilities.unsupported

    def _checked_create(
        self, prompt: str, model: str | None, size: str | None, seconds: str | int | None
    ) -> tuple[str, str, str, str]:
        """A create's prompt, model, size and seconds as the profile takes them; a model the
        provider refused as gone is refused here, before any request."""
        text = check_prompt(prompt)
        chosen = self.profile.check_model(model)
        if self.capabilities.retired(chosen):
            raise ModelUnavailableError(chosen, f"{chosen} was refused by the provider as gone")
        return (
            text,
            chosen,
            self.profile.check_size(chosen, size),
            self.profile.check_seconds(chosen, seconds),
        )

    # The ten operations.

    async def create(
        self,
        prompt: str,
        *,
        model: str | None = None,
        size: str | None = None,
        seconds: str | int | None = None,
        input_reference: ImageReference | Upload | None = None,
    ) -> Video:
        text, chosen, chosen_size, chosen_seconds = self._checked_create(
            prompt, model, size, seconds
        )
        fields = {"prompt": text, "model": chosen, "size": chosen_size, "seconds": chosen_seconds}
        if isinstance(input_reference, Upload):
            body: RequestBody = Multipart(fields, {"input_reference": input_reference})
        else:
            json_body: JSONObject = {**fields}
            if input_reference is not None:
                json_body["input_reference"] = input_reference.model_dump(exclude_none=True)
            body = json_body
        return await self._send_job(Operation.CREATE, "/videos", body, model=chosen)

    # `model` (the source's) is not sent: the contract knows it from the source.
    async def edit(self, video: str | Upload, prompt: str, *, model: str | None = None) -> Video:
        body = _with_video(video, {"prompt": check_prompt(prompt)})
        return await self._send_job(Operation.EDIT, "/videos/edits", body)

    async def extend(
        self, video: str | Upload, prompt: str, seconds: str | int, *, model: str | None = None
    ) -> Video:
        fields = {
            "prompt": check_prompt(prompt),
            # The allowed extension lengths are the same for every model.
            "seconds": self.profile.check_seconds(self.profile.default_model, seconds, extend=True),
        }
        return await self._send_job(
            Operation.EXTEND, "/videos/extensions", _with_video(video, fields)
        )

    async def remix(self, video_id: str, prompt: str, *, model: str | None = None) -> Video:
        path = f"/videos/{_segment('video_id', video_id)}/remix"
        request = _Request("POST", path, {"prompt": check_prompt(prompt)})
        return await self._call(Video, Operation.REMIX, request)

    async def create_character(self, name: str, video: Upload) -> Character:
        body = Multipart({"name": check_character_name(name)}, {"video": video})
        request = _Request("POST", "/videos/characters", body)
        return await self._call(Character, Operation.CREATE_CHARACTER, request)

    async def get_character(self, character_id: str) -> Character:
        path = f"/videos/characters/{_segment('character_id', character_id)}"
        return await self._call(Character, Operation.GET_CHARACTER, _Request("GET", path))

    async def list(
        self,
        *,
        after: str | None = None,
        limit: int | None = None,
        order: ListOrder | None = None,
    ) -> VideoPage:
        if limit is not None and not 0 <= limit <= LIST_LIMIT_MAX:
            raise InvalidParameterError(
                "limit", f"limit must be between 0 and {LIST_LIMIT_MAX}, not {limit}"
            )
        given = {"after": after, "limit": limit, "order": order}
        params = {name: value for name, value in given.items() if value is not None}
        request = _Request("GET", "/videos", params=params)
        return await self._call(VideoPage, Operation.LIST, request)

    async def retrieve(self, video_id: str) -> Video:
        path = f"/videos/{_segment('video_id', video_id)}"
        return await self._call(Video, Operation.RETRIEVE, _Request("GET", path))

    async def delete(self, video_id: str) -> DeletedVideo:
        path = f"/videos/{_segment('video_id', video_id)}"
        return await self._call(DeletedVideo, Operation.DELETE, _Request("DELETE", path))

    @asynccontextmanager
    async def stream(
        self, video_id: str, *, variant: ContentVariant = "video"
    ) -> AsyncIterator[ContentStream]:
        """Open a video's media; the connection is released when the block ends."""
        path = f"/videos/{_segment('video_id', video_id)}/content"
        request = _Request("GET", path, params={"variant": variant}, learns=variant == "video")
        response, _ = await self._exchange(Operation.DOWNLOAD, request, stream=True)
        try:
            yield ContentStream(response)
        finally:
            await response.aclose()

    async def download(
        self, video_id: str, dest: Path, *, variant: ContentVariant = "video"
    ) -> DownloadResult:
        """Save a video's media to `dest`, which exists only once every byte has arrived.

        Bounded in bytes (ResponseTooLargeError, before reading when the length is announced)
        and in time, from the first request to the last byte (APITimeoutError).
        """
        limit = self._download_limit
        try:
            async with asyncio.timeout(self._download_timeout):
                async with self.stream(video_id, variant=variant) as content:
                    if content.content_length is not None and content.content_length > limit:
                        raise _too_large(f"the {variant}", content.content_length, limit)
                    chunks = _capped(content.aiter_bytes(DOWNLOAD_CHUNK), limit, f"the {variant}")
                    size = await save_atomically(chunks, dest)
                    return DownloadResult(dest, content.content_type, size)
        except TimeoutError:
            raise APITimeoutError(
                f"the {variant} did not arrive within {self._download_timeout:.0f} s"
            ) from None

    # The HTTP layer.

    async def request(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        body: RequestBody | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> httpx.Response:
        """Send a request exactly as given: retried and classified, but with no input checks.

        For callers that must send what the operations refuse to, like the capability probe.
        Its body is read (within ANSWER_LIMIT) but not kept: callers read the status and headers.
        """
        request = _Request(method, path, body, params)
        return (await self._exchange(operation, request, stream=False)).response

    async def _send_job(
        self, operation: Operation, path: str, body: RequestBody, *, model: str | None = None
    ) -> Video:
        """Create, edit and extend: sent as JSON or multipart, as this provider takes them."""
        if isinstance(body, dict) and self._multipart:
            body = as_multipart(body)
        try:
            return await self._call(Video, operation, _Request("POST", path, body, model=model))
        except APIStatusError as exc:
            if exc.status != UNSUPPORTED_MEDIA_TYPE or not isinstance(body, dict):
                raise
            if self.profile.body != "auto":
                raise
        # A 415 created nothing, so sending the same job again, as multipart, is safe.
        log.info("the provider refused a JSON body (415); sending multipart from now on")
        self._multipart = True
        request = _Request("POST", path, as_multipart(body), model=model)
        return await self._call(Video, operation, request)

    async def _call(self, model: type[Model], operation: Operation, request: _Request) -> Model:
        response, body = await self._exchange(operation, request, stream=False)
        try:
            parsed = model.model_validate_json(body)
        except ValidationError as exc:
            raise VideoAPIError(
                f"the provider's answer to {operation.value} is not a valid {model.__name__}",
                status=response.status_code,
                request_id=response.headers.get("x-request-id"),
            ) from exc
        parsed._meta = response_meta(response)
        return parsed

    async def _exchange(self, operation: Operation, request: _Request, *, stream: bool) -> _Answer:
        """Send with retries; return a successful response, open only when `stream` is set."""
        if self.capabilities.supports(operation) is False:
            raise UnsupportedOperationError(operation)
        retry = 0
        while True:
            try:
                response, body = await self._attempt(request, stream=stream)
            except httpx.RequestError as exc:
                if retry >= self._max_retries or not should_retry_error(request.method, exc):
                    raise connection_error(exc) from exc
                await self._pause(operation, retry, type(exc).__name__, None)
            else:
                status = response.status_code
                if response.is_success:
                    self.capabilities.answered()
                    if request.learns:
                        self._learn(operation, status, api_error_body=False)
                    return _Answer(response, body)
                waited_out = status == RATE_LIMITED and request.method == "POST"
                budget = self._rate_limit_retries if waited_out else self._max_retries
                if retry >= budget or not should_retry_status(request.method, status):
                    raise self._status_error(operation, request, response, body)
                await self._pause(operation, retry, f"status {status}", response.headers)
            retry += 1

    async def _attempt(self, request: _Request, *, stream: bool) -> _Answer:
        """One try. Bodies are read here, so a connection lost mid-body fails this try."""
        with ExitStack() as files:
            response = await self._http.send(self._build(request, files), stream=True)
        # Media may live behind a redirect to storage; httpx drops the key on a change of
        # origin. A POST is never replayed somewhere else.
        if request.method == "GET":
            response = await self._follow(response)
        log.debug(
            "%s %s -> %d (request %s)",
            request.method,
            request.path,
            response.status_code,
            response.headers.get("x-request-id"),
        )
        if response.is_success and stream:
            return _Answer(response, b"")
        try:
            if response.is_success:
                return _Answer(response, await _read_answer(response, request.path))
            return _Answer(response, await read_capped(response))
        finally:
            await response.aclose()

    async def _follow(self, response: httpx.Response) -> httpx.Response:
        """The answer at the end of `response`'s redirects, each checked before it is sent."""
        for _ in range(MAX_REDIRECTS):
            following = response.next_request
            if following is None:
                return response
            await response.aclose()
            await self._redirects.check(following)
            response = await self._http.send(following, stream=True)
        await response.aclose()
        raise RedirectRefusedError(f"the provider redirected more than {MAX_REDIRECTS} times")

    def _build(self, request: _Request, files: ExitStack) -> httpx.Request:
        body = request.body
        if isinstance(body, Multipart):
            parts = multipart_parts(body, files)
            return self._http.build_request(
                request.method, request.path, params=request.params, files=parts
            )
        return self._http.build_request(
            request.method, request.path, params=request.params, json=body
        )

    async def _pause(
        self, operation: Operation, retry: int, reason: str, headers: httpx.Headers | None
    ) -> None:
        delay = self._backoff.delay(retry, retry_after(headers) if headers is not None else None)
        log.warning(
            "video API %s failed (%s); retry %d in %.2f s",
            operation.value,
            reason,
            retry + 1,
            delay,
        )
        await self._backoff.sleep(delay)

    def _status_error(
        self, operation: Operation, request: _Request, response: httpx.Response, raw: bytes
    ) -> VideoAPIError:
        status = response.status_code
        text = self._redact(raw.decode("utf-8", errors="replace"))
        payload = json_or_none(text)
        details = api_error(payload)
        answered = from_a_handler(payload)
        request_id = response.headers.get("x-request-id")
        param = (details or {}).get("param")
        if request.model is not None and names_gone_model(operation, status, text, param=param):
            # About the model, not the route: create stays served for every other model.
            log.warning("the provider refused model %s as gone (%d)", request.model, status)
            self.capabilities.retire(request.model)
            self.capabilities.record(operation, served=True)
            return ModelUnavailableError(
                request.model,
                _error_message(details, payload, text),
                status=status,
                request_id=request_id,
            )
        if says_unsupported(operation, status, text):
            # Refused before anything was made (LiteLLM's transformations): a known lack.
            self.capabilities.record(operation, served=False)
            return UnsupportedOperationError(operation, status=status)
        if request.learns:
            self._learn(operation, status, api_error_body=answered)
        if route_missing(operation, status, api_error_body=answered):
            return UnsupportedOperationError(operation, status=status)
        message = _error_message(details, payload, text)
        code = (details or {}).get("code")
        return error_class_for(status)(
            message or f"HTTP {status} {response.reason_phrase}",
            status=status,
            request_id=request_id,
            code=None if code is None else str(code),
            body=text if payload is None else payload,
            meta=response_meta(response),
        )

    def _learn(self, operation: Operation, status: int, *, api_error_body: bool) -> None:
        if route_missing(operation, status, api_error_body=api_error_body):
            self.capabilities.record(operation, served=False)
        elif route_answered(operation, status, api_error_body=api_error_body):
            self.capabilities.record(operation, served=True)

    def _redact(self, text: str) -> str:
        """Servers sometimes echo the key in an error; it must not travel further."""
        if self._api_key is None:
            return text
        return text.replace(self._api_key.get_secret_value(), REDACTED)


def _error_message(details: dict[str, Any] | None, payload: Any, text: str) -> str:
    """What an error body says: OpenAI's message, FastAPI's detail, or the text's start."""
    message = (details or {}).get("message") or detail_of(payload)
    return str(message) if message else text.strip()[:ERROR_TEXT_LIMIT]


async def _read_answer(response: httpx.Response, path: str) -> bytes:
    """A JSON answer's body, refused past ANSWER_LIMIT without reading the rest."""
    what = f"the answer to {path}"
    length = announced_length(response)
    if length is not None and length > ANSWER_LIMIT:
        raise _too_large(what, length, ANSWER_LIMIT)
    return b"".join([chunk async for chunk in _capped(response.aiter_bytes(), ANSWER_LIMIT, what)])


async def _capped(chunks: AsyncIterator[bytes], limit: int, what: str) -> AsyncIterator[bytes]:
    """`chunks`, ended with ResponseTooLargeError once they pass `limit` bytes."""
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _too_large(what, None, limit)
        yield chunk


def _too_large(what: str, size: int | None, limit: int) -> ResponseTooLargeError:
    cap = f"the {limit / MIB:g} MiB the bot reads"
    said = f"is {size / MIB:.1f} MiB, more than {cap}" if size else f"is larger than {cap}"
    return ResponseTooLargeError(f"{what} {said}", limit=limit)


def _segment(name: str, value: str) -> str:
    """An id as one path segment: never empty, never able to reach another route."""
    return quote(_check_id(name, value), safe="")


def _check_id(name: str, value: str) -> str:
    if not value.strip():
        raise InvalidParameterError(name, f"{name} must not be empty")
    return value


def _with_video(video: str | Upload, fields: dict[str, str]) -> RequestBody:
    """Edit and extend name their source by id (JSON) or send it (multipart)."""
    if isinstance(video, Upload):
        return Multipart(fields, {"video": video})
    return {"video": {"id": _check_id("video", video)}, **fields}
