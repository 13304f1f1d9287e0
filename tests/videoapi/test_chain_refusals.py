"""What the LiteLLM chains taught: a refusal that names a model is about that model, and a 500
that says an operation is not supported is a known lack, not a lost answer.

The bodies are the real proxy's (LiteLLM 1.106.12, `.litellm/`), captured 2026-12-05 with the
proxy in front of a loopback stand-in answering Google's 404 for a retired Veo id, and with
remix, edit and extend asked of its `gemini/`, `fal_ai/` and `runwayml/` deployments (which
sent nothing upstream). The texts come from `llms/{gemini,fal_ai,runwayml}/videos/
transformation.py` (NotImplementedError) and `proxy/video_endpoints/endpoints.py`.
"""

from __future__ import annotations

from typing import Any

import pytest
import respx

from bot.videoapi.capabilities import RETIRED_FOR, Capabilities
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import (
    BadRequestError,
    InternalServerError,
    ModelUnavailableError,
    UnsupportedOperationError,
)
from bot.videoapi.models import Operation
from bot.videoapi.presets import preset

from .conftest import MakeClient
from .helpers import error_json, video_json

GOOGLE_404 = (
    '{"error": {"code": 404, "message": "models/veo-3.1-generate-preview is not found for API '
    "version v1beta, or is not supported for predictLongRunning. Call ListModels to see the list "
    'of available models and their supported methods.", "status": "NOT_FOUND"}}'
)


def litellm_error(message: str, status: int, kind: str) -> dict[str, Any]:
    """The proxy's error object (`ProxyException`), as it answered."""
    return {"error": {"message": message, "type": kind, "param": None, "code": str(status)}}


# The proxy relaying Google's 404 for a retired id, through each transformation.
RELAYED_404 = [
    litellm_error(
        f"litellm.NotFoundError: {prefix} - {GOOGLE_404}\n\nLiteLLM: model group 'veo' failed "
        "with the error above. No fallback was attempted.",
        404,
        "invalid_request_error",
    )
    for prefix in ("GeminiException", "Fal_aiException", "NotFoundError: RunwaymlException")
]

# The proxy's 500s for what a transformation refuses before sending anything upstream.
NOT_SUPPORTED = [
    (
        Operation.REMIX,
        "litellm.APIConnectionError: Video remix is not supported by Google Veo. "
        "Please use video_generation() to create new videos.",
    ),
    (
        Operation.EDIT,
        "litellm.InternalServerError: GeminiException InternalServerError - video "
        "edit is not supported for Gemini\n\nLiteLLM: model group 'veo-3.1' failed with the error "
        "above. No fallback was attempted.",
    ),
    (Operation.EXTEND, "litellm.APIConnectionError: video extension is not supported for Gemini"),
    (Operation.REMIX, "litellm.APIConnectionError: video remix is not supported for fal.ai"),
    (
        Operation.EDIT,
        "litellm.APIConnectionError: Fal_aiException - video edit is not supported "
        "for fal.ai\n\nLiteLLM: model group 'fal-seedance' failed with the error above. No "
        "fallback was attempted.",
    ),
    (Operation.EXTEND, "litellm.APIConnectionError: video extension is not supported for fal.ai"),
    (
        Operation.REMIX,
        "litellm.APIConnectionError: APIConnectionError: RunwaymlException - Video "
        "remix is not yet supported by RunwayML API\n\nLiteLLM: model group 'runway' failed with "
        "the error above. No fallback was attempted.",
    ),
    (
        Operation.EDIT,
        "litellm.InternalServerError: InternalServerError: RunwaymlException - "
        "video edit is not supported for RunwayML\n\nLiteLLM: model group 'runway' failed with "
        "the error above. No fallback was attempted.",
    ),
    (
        Operation.EXTEND,
        "litellm.APIConnectionError: APIConnectionError: RunwaymlException - "
        "video extension is not supported for RunwayML\n\nLiteLLM: model group 'runway' failed "
        "with the error above. No fallback was attempted.",
    ),
]

VEO = preset("litellm").model_copy(
    update={"models": ("veo-3.1", "veo-3.1-fast"), "price_per_second": {}}
)


async def derive(client: VideoClient, operation: Operation) -> object:
    if operation is Operation.REMIX:
        return await client.remix("video_1", "a dog")
    if operation is Operation.EDIT:
        return await client.edit("video_1", "a dog")
    return await client.extend("video_1", "a dog", "4")


@pytest.mark.parametrize("body", RELAYED_404, ids=["gemini", "fal", "runway"])
async def test_a_404_naming_a_model_retires_that_model_not_the_create_route(
    router: respx.Router, make_client: MakeClient, body: dict[str, Any]
) -> None:
    client = make_client(profile=VEO)
    route = router.post("/videos").respond(404, json=body)

    with pytest.raises(ModelUnavailableError) as caught:
        await client.create("a cat", model="veo-3.1")
    assert (caught.value.model, caught.value.status) == ("veo-3.1", 404)

    # The route is there: another model is still asked for, and the retired one is not.
    assert client.supports(Operation.CREATE) is True
    assert Operation.CREATE not in client.unsupported
    route.respond(200, json=video_json(model="veo-3.1-fast"))
    await client.create("a cat", model="veo-3.1-fast")
    with pytest.raises(ModelUnavailableError):
        await client.create("a cat", model="veo-3.1")
    assert route.call_count == 2
    assert client.capabilities.available(VEO.models) == ("veo-3.1-fast",)


@pytest.mark.parametrize(
    "message",
    [
        "This model models/veo-3.1-generate-preview is no longer available.",
        "The model `veo-2` does not exist or you do not have access to it.",
        "Unknown model: kling-9",
        "model_not_found",
    ],
)
async def test_a_400_naming_a_gone_model_is_about_the_model(
    router: respx.Router, make_client: MakeClient, message: str
) -> None:
    client = make_client(profile=VEO)
    router.post("/videos").respond(400, json=error_json(message))

    with pytest.raises(ModelUnavailableError):
        await client.create("a cat", model="veo-3.1")

    assert client.capabilities.retired("veo-3.1")


async def test_a_400_that_names_model_as_the_parameter_refused_is_about_the_model(
    router: respx.Router, make_client: MakeClient
) -> None:
    # OpenAI's error object (and the simulator's) for a model it does not make.
    client = make_client(profile=VEO)
    router.post("/videos").respond(
        400, json=error_json("model must be one of sora-2, not 'veo-3.1'", param="model")
    )

    with pytest.raises(ModelUnavailableError):
        await client.create("a cat", model="veo-3.1")

    assert client.capabilities.retired("veo-3.1")


async def test_a_400_about_another_input_leaves_the_model_alone(
    router: respx.Router, make_client: MakeClient
) -> None:
    client = make_client(profile=VEO)
    router.post("/videos").respond(
        400,
        json=error_json("seconds must be one of 4, 8 for model veo-3.1, not '12'", param="seconds"),
    )

    with pytest.raises(BadRequestError):
        await client.create("a cat", model="veo-3.1")

    assert not client.capabilities.retired("veo-3.1")


async def test_a_404_on_create_that_names_no_model_is_still_a_missing_route(
    router: respx.Router, client: VideoClient
) -> None:
    router.post("/videos").respond(404, json={"detail": "Not Found"})

    with pytest.raises(UnsupportedOperationError):
        await client.create("a cat")

    assert client.supports(Operation.CREATE) is False


def test_a_retired_model_comes_back_after_an_hour_or_when_a_catalogue_lists_it() -> None:
    now = [1000.0]
    capabilities = Capabilities(clock=lambda: now[0])
    capabilities.retire("veo-3.1")
    capabilities.retire("kling-3")

    now[0] += RETIRED_FOR - 1
    assert capabilities.available(["veo-3.1", "kling-3", "wan-2.7"]) == ("wan-2.7",)
    capabilities.listed(["kling-3"])
    assert capabilities.available(["veo-3.1", "kling-3"]) == ("kling-3",)
    now[0] += 1
    assert capabilities.available(["veo-3.1", "kling-3"]) == ("veo-3.1", "kling-3")


@pytest.mark.parametrize(
    ("operation", "message"),
    NOT_SUPPORTED,
    ids=[f"{up}-{op.value}" for up in ("gemini", "fal", "runway") for op, _ in NOT_SUPPORTED[:3]],
)
async def test_litellms_500_saying_not_supported_marks_the_operation_missing(
    router: respx.Router, make_client: MakeClient, operation: Operation, message: str
) -> None:
    client = make_client(profile=VEO)
    body = litellm_error(message, 500, "internal_server_error")
    routes = [
        router.post("/videos/video_1/remix").respond(500, json=body),
        router.post("/videos/edits").respond(500, json=body),
        router.post("/videos/extensions").respond(500, json=body),
    ]

    with pytest.raises(UnsupportedOperationError) as caught:
        await derive(client, operation)
    with pytest.raises(UnsupportedOperationError):
        await derive(client, operation)

    assert (caught.value.operation, caught.value.status) == (operation, 500)
    assert operation in client.unsupported
    # Asked once: the second was refused at once.
    assert sum(route.call_count for route in routes) == 1


async def test_any_other_500_on_remix_is_still_an_answer_lost(
    router: respx.Router, make_client: MakeClient
) -> None:
    client = make_client(profile=VEO)
    router.post("/videos/video_1/remix").respond(
        500,
        json=litellm_error(
            "litellm.InternalServerError: upstream connection reset", 500, "internal_server_error"
        ),
    )

    with pytest.raises(InternalServerError):
        await client.remix("video_1", "a dog")

    assert client.supports(Operation.REMIX) is None
