"""Which failed creates prove nothing was made (failover allowed) and which leave it unknown.

Each answer is what a real server sends, through the real client, so the classification is of
the errors the bot actually gets: OpenRouter's documented bodies (openrouter.ai/docs/api/errors),
LiteLLM's router and transformations, OpenAI's contract errors.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr

from bot.simulator.openrouter import CATALOGUE
from bot.timing.backoff import Backoff
from bot.videoapi.client import VideoClient
from bot.videoapi.errors import VideoAPIError
from bot.videoapi.openrouter.client import OpenRouterClient
from bot.videoapi.presets import PRESETS
from bot.videoapi.refusals import Refusal, answer_lost, nothing_made

from .conftest import MakeClient
from .helpers import RecordingSleep, error_json

OPENROUTER_URL = "https://openrouter.test/api/v1"


def openrouter_error(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


async def create_error(client: VideoClient) -> VideoAPIError:
    with pytest.raises(VideoAPIError) as raised:
        await client.create("a red kite", model="sora-2", size="720x1280", seconds="4")
    return raised.value


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        pytest.param(
            httpx.Response(401, json=error_json("Incorrect API key provided.")), "key", id="401"
        ),
        pytest.param(httpx.Response(402, json=error_json("Insufficient credits")), "credits"),
        pytest.param(httpx.Response(403, json=error_json("Project not allowed")), "forbidden"),
        pytest.param(
            httpx.Response(
                404, json=error_json("The model `sora-2` does not exist", code="model_not_found")
            ),
            "model",
            id="404-model",
        ),
        pytest.param(
            httpx.Response(
                400,
                json=error_json(
                    "models/veo-3.1-generate-preview is not found for API version v1beta"
                ),
            ),
            "model",
            id="400-retired",
        ),
        pytest.param(httpx.Response(404, text="404: Not Found"), "unsupported", id="no-route"),
        pytest.param(
            httpx.Response(
                429,
                json=error_json(
                    "No deployments available for selected model, Try again in 60 seconds."
                ),
            ),
            "busy",
            id="429-after-waits",
        ),
        pytest.param(
            httpx.Response(
                503,
                json=error_json("No deployments available for selected model. Passed model=x"),
            ),
            "not_accepted",
            id="503-litellm-no-deployments",
        ),
        pytest.param(
            httpx.Response(
                503, json=error_json("The job was not accepted: no capacity. Nothing was created.")
            ),
            "not_accepted",
            id="503-not-accepted",
        ),
    ],
)
async def test_failover_allowed_after_a_refusal_that_made_nothing(
    make_client: MakeClient, router: respx.Router, answer: httpx.Response, why: Refusal
) -> None:
    router.post("/videos").mock(return_value=answer)
    error = await create_error(make_client())
    assert nothing_made(error) == why
    assert not answer_lost(error)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(httpx.Response(500, json=error_json("boom")), id="500"),
        pytest.param(httpx.Response(502, text="Bad Gateway"), id="502"),
        pytest.param(
            httpx.Response(503, json=error_json("The service is temporarily unavailable.")),
            id="503-unsaid",
        ),
        pytest.param(
            httpx.Response(503, json=error_json("litellm.ServiceUnavailableError: upstream")),
            id="503-litellm-upstream",
        ),
        pytest.param(httpx.Response(504, text="Gateway Timeout"), id="504"),
        pytest.param(httpx.ReadTimeout("no answer"), id="timeout"),
        pytest.param(httpx.RemoteProtocolError("reset mid-answer"), id="connection"),
    ],
)
async def test_no_failover_when_the_outcome_is_unknown(
    make_client: MakeClient, router: respx.Router, answer: httpx.Response | Exception
) -> None:
    router.post("/videos").mock(side_effect=[answer])
    error = await create_error(make_client(max_retries=0))
    assert nothing_made(error) is None
    assert answer_lost(error)


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(
            httpx.Response(400, json=error_json("Invalid size", param="size")), id="bad-size"
        ),
        pytest.param(
            httpx.Response(400, json=error_json("Your request was blocked by moderation")),
            id="moderated",
        ),
        pytest.param(httpx.Response(413, text="Request Entity Too Large"), id="413"),
        pytest.param(httpx.Response(422, json={"detail": [{"msg": "bad"}]}), id="422"),
    ],
)
async def test_no_failover_for_a_request_any_provider_would_refuse(
    make_client: MakeClient, router: respx.Router, answer: httpx.Response
) -> None:
    router.post("/videos").mock(return_value=answer)
    error = await create_error(make_client())
    assert nothing_made(error) is None
    assert not answer_lost(error)


def test_no_failover_for_what_is_not_the_providers_answer() -> None:
    # A bug or a bad reference image: the error handler says so; nothing is sent elsewhere.
    assert nothing_made(ValueError("bad image")) is None
    assert not answer_lost(ValueError("bad image"))


@pytest.mark.parametrize(
    ("status", "message", "why"),
    [
        (402, "Insufficient credits. Add more using https://openrouter.ai/credits", "credits"),
        (
            503,
            "There is no available model provider that meets your routing requirements",
            "not_accepted",
        ),
        (502, "Your chosen model is down or we received an invalid response from it", None),
    ],
)
async def test_failover_reads_openrouters_documented_answers(
    status: int, message: str, why: Refusal | None
) -> None:
    router = respx.Router(base_url=OPENROUTER_URL, assert_all_called=False)
    catalogue = {"data": [model.model_dump(mode="json") for model in CATALOGUE]}
    router.get("/videos/models").respond(200, json=catalogue)
    answer = httpx.Response(status, json=openrouter_error(status, message))
    router.post("/videos").mock(return_value=answer)
    async with OpenRouterClient(
        OPENROUTER_URL,
        SecretStr("sk-or-test"),
        profile=PRESETS["openrouter"],
        backoff=Backoff(sleep=RecordingSleep()),
        max_retries=0,
        transport=httpx.MockTransport(router.handler),
    ) as client:
        model = client.profile.default_model
        with pytest.raises(VideoAPIError) as raised:
            await client.create("a red kite", model=model)
    assert nothing_made(raised.value) == why
    assert answer_lost(raised.value) == (why is None)
