"""LiteLLM 1.108.7 in front of imitations of Gemini, fal and Runway (tests/litellm/upstreams.py):
what each chain answers on the Videos API routes, and the bot delivering through each.

Each chain is the README recipe (tests/litellm/proxy.py CHAINS). docs/servers.md says what each
does that the plain contract does not.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.botenv import StartBot
from tests.e2e.views import delivered, has_mp4, row_when, status, video_id
from tests.litellm.conftest import Chains, Outbound
from tests.litellm.proxy import CHAINS, MASTER_KEY, RETIRED_GEMINI, Chain
from tests.litellm.upstreams import Upstream

Json = dict[str, Any]
BY_NAME = {chain.name: chain for chain in CHAINS}
CHAIN_PARAMS = [pytest.param(chain, id=chain.name) for chain in CHAINS]
# LiteLLM's provider names, as they appear in its ids.
PROVIDERS = {"gemini": "gemini", "fal": "fal_ai", "runway": "runwayml"}
WITHIN = 30.0


def parts(video: str) -> dict[str, str]:
    text = base64.b64decode(video.removeprefix("video_")).decode().removeprefix("litellm:")
    return dict(part.split(":", 1) for part in text.split(";"))


def upstream_of(chains: Chains, chain: Chain) -> Upstream:
    upstream: Upstream = getattr(chains.upstreams, chain.name)
    return upstream


@pytest.fixture
def client(chains: Chains, outbound: Outbound) -> Iterator[httpx.Client]:
    outbound.take()
    for upstream in chains.upstreams.all():
        upstream.take()
    headers = {"Authorization": f"Bearer {MASTER_KEY}"}
    with httpx.Client(base_url=chains.gateway, headers=headers, timeout=60) as client:
        yield client


def create(client: httpx.Client, chain: Chain, model: str | None = None) -> Json:
    body = {
        "model": model or chain.models[1],
        "prompt": "A calico cat on stage",
        "seconds": chain.settings["provider_seconds"].split(",")[0],
        "size": "1280x720",
    }
    response = client.post("/v1/videos", json=body)
    assert response.status_code == 200, response.text
    video: Json = response.json()
    return video


def followed(client: httpx.Client, video: str) -> list[Json]:
    """Every answer to retrieve until the job ends (bounded)."""
    answers: list[Json] = []
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        response = client.get(f"/v1/videos/{video}")
        assert response.status_code == 200, response.text
        answers.append(response.json())
        if answers[-1]["status"] in ("completed", "failed"):
            return answers
        time.sleep(0.1)
    raise AssertionError(f"{video} did not end: {answers[-1]}")


def test_the_chains_proxy_starts_without_calling_out(chains: Chains) -> None:
    assert chains.outbound_at_start == []


@pytest.mark.parametrize("chain", CHAIN_PARAMS)
def test_a_video_is_made_by_the_model_asked_for_and_downloaded(
    client: httpx.Client, chains: Chains, outbound: Outbound, chain: Chain
) -> None:
    model = chain.models[1]  # not the first: no default stands in for the member's choice
    created = create(client, chain, model)
    fields = parts(created["id"])
    assert (fields["custom_llm_provider"], fields["model_id"]) == (
        PROVIDERS[chain.name],
        chain.upstream_model(model),
    )
    answers = followed(client, created["id"])
    assert answers[-1]["status"] == "completed"
    assert {answer["model"] for answer in answers} == {model}
    content = client.get(f"/v1/videos/{created['id']}/content")
    assert content.status_code == 200, content.text
    assert content.headers["content-type"] == "video/mp4"
    assert content.content[4:8] == b"ftyp"
    assert upstream_of(chains, chain).asked_models[-1] == chain.upstream_model(model)
    assert outbound.take() == []


def test_gemini_the_id_is_the_operation_and_there_is_no_progress_or_time(
    client: httpx.Client, chains: Chains
) -> None:
    chain = BY_NAME["gemini"]
    created = create(client, chain)
    name = parts(created["id"])["video_id"]
    assert name.startswith("models/veo-3.1-generate-001/operations/")
    assert (created["status"], created["created_at"]) == ("processing", None)
    answers = followed(client, created["id"])
    assert {answer["id"] for answer in answers} == {created["id"]}
    assert {a["status"] for a in answers[:-1]} <= {"processing"}
    assert {(a["progress"], a["created_at"]) for a in answers} == {(None, None)}
    client.get(f"/v1/videos/{created['id']}/content")
    # Content looks the operation up again, then downloads the file with the key.
    requests = chains.upstreams.gemini.take()
    assert requests[-2:] == [
        f"GET /v1beta/{name}",
        f"GET /v1beta/files/{name.rsplit('/', 1)[1]}:download",
    ]


def test_gemini_a_retired_model_is_relayed_as_a_404_naming_it(
    client: httpx.Client, chains: Chains
) -> None:
    body = {"model": RETIRED_GEMINI[0], "prompt": "A cat", "seconds": "4", "size": "1280x720"}
    response = client.post("/v1/videos", json=body)
    assert response.status_code == 404, response.text
    message = response.json()["error"]["message"]
    assert "models/veo-3.1-generate-preview is no longer available" in message
    assert chains.upstreams.gemini.take() == [
        "POST /v1beta/models/veo-3.1-generate-preview:predictLongRunning"
    ]


def test_fal_retrieve_answers_another_id_and_a_creation_time_of_zero(
    client: httpx.Client, chains: Chains
) -> None:
    chain = BY_NAME["fal"]
    created = create(client, chain)
    assert isinstance(created["created_at"], int)
    assert created["created_at"] > 0
    answers = followed(client, created["id"])
    request = parts(created["id"])["video_id"]
    # Re-encoded from the status URL, the app cut to owner/alias: another id for the same job.
    [answered] = {a["id"] for a in answers}
    assert answered != created["id"]
    assert parts(answered) == {**parts(created["id"]), "model_id": "fal-ai/kling-video"}
    assert {a["created_at"] for a in answers} == {0}
    assert answers[0]["status"] == "queued"
    assert answers[-2]["status"] == "in_progress"
    assert {a["progress"] for a in answers} == {None}
    # Seen COMPLETED, the status call also fetches the result to look for an error.
    requests = chains.upstreams.fal.take()
    assert requests[-1] == f"GET /fal-ai/kling-video/requests/{request}"


def test_runway_create_answers_a_creation_time_of_zero_and_progress_follows_the_task(
    client: httpx.Client,
) -> None:
    chain = BY_NAME["runway"]
    created = create(client, chain)
    assert (created["status"], created["created_at"]) == ("queued", 0)
    answers = followed(client, created["id"])
    assert {a["created_at"] for a in answers} != {0}
    running = [a["progress"] for a in answers if a["status"] == "in_progress"]
    assert running
    assert all(0 < progress < 100 for progress in running)
    assert running == sorted(running)


def test_runway_an_image_reference_goes_to_image_to_video(
    client: httpx.Client, chains: Chains
) -> None:
    """Runway takes the first frame as a URL or a data URI (`promptImage`), never a file."""
    chain = BY_NAME["runway"]
    body = {
        "model": chain.models[0],
        "prompt": "From this frame",
        "seconds": "4",
        "size": "1280x720",
        "input_reference": "data:image/png;base64,iVBORw0KGgo=",
    }
    response = client.post("/v1/videos", json=body)
    assert response.status_code == 200, response.text
    assert chains.upstreams.runway.take()[0] == "POST /v1/image_to_video"
    assert followed(client, response.json()["id"])[-1]["status"] == "completed"


@pytest.mark.parametrize("chain", CHAIN_PARAMS)
@pytest.mark.parametrize("operation", ["remix", "edits", "extensions"])
def test_remix_edit_and_extend_are_refused_with_a_500_before_anything_is_sent(
    client: httpx.Client, chains: Chains, chain: Chain, operation: str
) -> None:
    created = create(client, chain)
    followed(client, created["id"])
    upstream = upstream_of(chains, chain)
    upstream.take()
    source = {"prompt": "In red", "video": {"id": created["id"]}}
    path, body = {
        "remix": (f"/v1/videos/{created['id']}/remix", {"prompt": "In red"}),
        "edits": ("/v1/videos/edits", source),
        "extensions": ("/v1/videos/extensions", {**source, "seconds": "4"}),
    }[operation]
    response = client.post(path, json=body)
    assert response.status_code == 500
    assert "not" in response.json()["error"]["message"].lower()
    assert "supported" in response.json()["error"]["message"].lower()
    assert upstream.take() == []


@pytest.mark.parametrize("chain", CHAIN_PARAMS)
async def test_the_bot_delivers_through_the_chain_with_the_members_model(
    start_bot: StartBot, chains: Chains, outbound: Outbound, chain: Chain
) -> None:
    """Runway's `created_at: 0` read as 1970 once timed the job out a second after it began."""
    outbound.take()
    upstream = upstream_of(chains, chain)
    asked_before = len(upstream.asked_models)
    env = await start_bot(
        api_url=f"{chains.gateway}/v1",
        api_key=MASTER_KEY,
        settings={"provider": "litellm", **chain.settings},
        edit_interval=0.02,
    )
    h = env.harness
    model = chain.models[1]
    rec = await h.slash("video", {"prompt": "a paper boat", "model": model}, user=h.world.alice)
    card = await h.original(rec, has_mp4, within=WITHIN)
    assert status(card) == "✅ Done"
    row = await row_when(env.bot.videos, video_id(card), delivered, within=WITHIN)
    assert row.model == model
    assert upstream.asked_models[asked_before:] == [chain.upstream_model(model)]
    requests = Counter(env.api_requests)
    assert requests["POST /v1/videos"] == 1
    assert "GET /v1/videos" not in requests
    assert outbound.take() == []
