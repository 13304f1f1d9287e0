"""PROVIDER_BODY: create, edit and extend go as JSON, as multipart, or as JSON until a 415."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import APIStatusError, BadRequestError, UnprocessableEntityError
from bot.videoapi.models import ImageReference, Upload
from bot.videoapi.profile import BodyEncoding, ProviderProfile
from bot.videoapi.wire import Multipart, as_multipart

from .conftest import MakeClient
from .helpers import FormPart, error_json, form_parts, video_json

IMAGE_URL = "https://images.test/cat.png"
JOB_ROUTES = ("/videos", "/videos/edits", "/videos/extensions")


def text(value: str) -> FormPart:
    return FormPart(None, None, value.encode())


def is_json(request: httpx.Request) -> bool:
    return request.headers["content-type"] == "application/json"


def is_multipart(request: httpx.Request) -> bool:
    return request.headers["content-type"].startswith("multipart/form-data; boundary=")


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)


def refuse_json(request: httpx.Request) -> httpx.Response:
    """A server that reads form fields only and says so with a 415."""
    if is_json(request):
        return httpx.Response(415, json=error_json("Unsupported Media Type"))
    return httpx.Response(200, json=video_json())


def make(make_client: MakeClient, body: BodyEncoding) -> VideoClient:
    return make_client(profile=ProviderProfile(body=body))


# as_multipart on its own.


def test_as_multipart_keeps_plain_fields_as_text() -> None:
    assert as_multipart({"prompt": "a cat", "seconds": "8"}) == Multipart(
        {"prompt": "a cat", "seconds": "8"}
    )


def test_as_multipart_flattens_objects_as_the_sdks_do() -> None:
    body = {
        "prompt": "keep going",
        "video": {"id": "video_1"},
        "input_reference": {"image_url": IMAGE_URL},
    }
    assert as_multipart(body) == Multipart(
        {"prompt": "keep going", "video[id]": "video_1", "input_reference[image_url]": IMAGE_URL}
    )


def test_as_multipart_sends_numbers_as_text_and_no_files() -> None:
    multipart = as_multipart({"seconds": 8, "size": "720x1280"})
    assert multipart.fields == {"seconds": "8", "size": "720x1280"}
    assert multipart.files == {}


# Each encoding on the wire.


async def test_body_json_sends_json(router: respx.Router, make_client: MakeClient) -> None:
    route = router.post("/videos").respond(json=video_json())
    client = make(make_client, "json")

    await client.create("a cat", input_reference=ImageReference(image_url=IMAGE_URL))

    request = route.calls.last.request
    assert is_json(request)
    assert json_body(request) == {
        "prompt": "a cat",
        "model": "sora-2",
        "size": "720x1280",
        "seconds": "4",
        "input_reference": {"image_url": IMAGE_URL},
    }


async def test_body_multipart_sends_a_form_with_objects_flattened(
    router: respx.Router, make_client: MakeClient
) -> None:
    create = router.post("/videos").respond(json=video_json())
    edit = router.post("/videos/edits").respond(json=video_json())
    extend = router.post("/videos/extensions").respond(json=video_json())
    client = make(make_client, "multipart")

    await client.create("a cat", input_reference=ImageReference(image_url=IMAGE_URL))
    await client.edit("video_1", "make it night")
    await client.extend("video_1", "keep going", 8)

    assert form_parts(create.calls.last.request) == {
        "prompt": text("a cat"),
        "model": text("sora-2"),
        "size": text("720x1280"),
        "seconds": text("4"),
        "input_reference[image_url]": text(IMAGE_URL),
    }
    assert form_parts(edit.calls.last.request) == {
        "video[id]": text("video_1"),
        "prompt": text("make it night"),
    }
    assert form_parts(extend.calls.last.request) == {
        "video[id]": text("video_1"),
        "prompt": text("keep going"),
        "seconds": text("8"),
    }


async def test_body_multipart_leaves_remix_as_json(
    router: respx.Router, make_client: MakeClient
) -> None:
    # Remix is not one of the jobs PROVIDER_BODY is about.
    route = router.post("/videos/video_1/remix").respond(json=video_json())
    client = make(make_client, "multipart")

    await client.remix("video_1", "at night")

    assert is_json(route.calls.last.request)
    assert json_body(route.calls.last.request) == {"prompt": "at night"}


async def test_body_auto_sends_json_while_it_is_taken(
    router: respx.Router, make_client: MakeClient
) -> None:
    route = router.post("/videos").respond(json=video_json())
    client = make(make_client, "auto")

    await client.create("a cat")
    await client.create("a dog")

    assert route.call_count == 2
    assert all(is_json(call.request) for call in route.calls)


async def test_body_auto_resends_once_as_multipart_after_a_415_and_stays_multipart(
    router: respx.Router, make_client: MakeClient
) -> None:
    routes = {path: router.post(path).mock(side_effect=refuse_json) for path in JOB_ROUTES}
    client = make(make_client, "auto")

    video = await client.create("a cat", input_reference=ImageReference(image_url=IMAGE_URL))

    assert video.id == "video_123"
    first, second = (call.request for call in routes["/videos"].calls)
    assert is_json(first)
    assert form_parts(second) == {
        "prompt": text("a cat"),
        "model": text("sora-2"),
        "size": text("720x1280"),
        "seconds": text("4"),
        "input_reference[image_url]": text(IMAGE_URL),
    }

    await client.create("a dog")
    await client.edit("video_1", "make it night")
    await client.extend("video_1", "keep going", "8")

    # One request each from now on, each a form at once.
    assert [route.call_count for route in routes.values()] == [3, 1, 1]
    assert is_multipart(routes["/videos"].calls.last.request)
    assert form_parts(routes["/videos/edits"].calls.last.request)["video[id]"] == text("video_1")
    assert form_parts(routes["/videos/extensions"].calls.last.request)["seconds"] == text("8")


async def test_body_auto_learns_from_a_415_on_edit_too(
    router: respx.Router, make_client: MakeClient
) -> None:
    edit = router.post("/videos/edits").mock(side_effect=refuse_json)
    create = router.post("/videos").mock(side_effect=refuse_json)
    client = make(make_client, "auto")

    await client.edit("video_1", "make it night")
    await client.create("a cat")

    assert [is_json(call.request) for call in edit.calls] == [True, False]
    assert create.call_count == 1
    assert is_multipart(create.calls.last.request)


async def test_a_415_with_body_json_is_raised_not_resent(
    router: respx.Router, make_client: MakeClient
) -> None:
    route = router.post("/videos").mock(side_effect=refuse_json)
    client = make(make_client, "json")

    with pytest.raises(APIStatusError) as raised:
        await client.create("a cat")

    assert raised.value.status == 415
    assert route.call_count == 1
    # Nor does it switch for the next job.
    with pytest.raises(APIStatusError):
        await client.create("a dog")
    assert route.call_count == 2
    assert all(is_json(call.request) for call in route.calls)


async def test_a_415_with_body_multipart_is_raised_not_resent(
    router: respx.Router, make_client: MakeClient
) -> None:
    route = router.post("/videos").respond(415, json=error_json("Unsupported Media Type"))
    client = make(make_client, "multipart")

    with pytest.raises(APIStatusError) as raised:
        await client.create("a cat")

    assert raised.value.status == 415
    assert route.call_count == 1


@pytest.mark.parametrize(
    ("status", "error"), [(400, BadRequestError), (422, UnprocessableEntityError)]
)
async def test_a_400_or_422_in_auto_is_raised_not_resent(
    router: respx.Router, make_client: MakeClient, status: int, error: type[APIStatusError]
) -> None:
    route = router.post("/videos").respond(status, json=error_json("prompt is required"))
    client = make(make_client, "auto")

    with pytest.raises(error):
        await client.create("a cat")
    with pytest.raises(error):
        await client.create("a dog")

    # Neither answer is about the encoding: JSON each time, one request each.
    assert route.call_count == 2
    assert all(is_json(call.request) for call in route.calls)


async def test_an_upload_is_never_resent_after_a_415(
    router: respx.Router, make_client: MakeClient
) -> None:
    # A multipart body refused with 415 has no other encoding to try.
    route = router.post("/videos/edits").respond(415, json=error_json("Unsupported Media Type"))
    client = make(make_client, "auto")

    with pytest.raises(APIStatusError):
        await client.edit(Upload("clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42"), "night")

    assert route.call_count == 1
