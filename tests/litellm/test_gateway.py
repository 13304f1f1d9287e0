"""What LiteLLM 1.108.7's proxy does on the Videos API routes, observed in front of the simulator.

Each test pins a fact the bot must cope with behind a LiteLLM gateway; docs/servers.md names the
LiteLLM source behind each one.
"""

from __future__ import annotations

import base64
import re
import string
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.litellm.conftest import Gateways, Outbound

TO_OPENAI = "CONNECT api.openai.com:443 HTTP/1.1"
# 1.108 appends the deployment that served the create (their #44614, the poll fix).
ID_TEXT = "litellm:custom_llm_provider:openai;model_id:{model};video_id:{raw};deployment_id:{dep}"
# What 1.106.12 answered on every retrieve (#33423); bots that ran on it have such ids stored.
MODELLESS_TEXT = "litellm:custom_llm_provider:openai;model_id:;video_id:{raw}"
ID_CHARACTERS = set(string.ascii_letters + string.digits + "_=")
DEPLOYMENT = re.compile(r"[0-9a-f]{64}")

Json = dict[str, Any]


def decode(video_id: str) -> str:
    assert video_id.startswith("video_")
    return base64.b64decode(video_id.removeprefix("video_")).decode()


def parts(video_id: str) -> dict[str, str]:
    """The id's `key:value` fields, after the `litellm:` prefix."""
    text = decode(video_id).removeprefix("litellm:")
    return dict(part.split(":", 1) for part in text.split(";"))


def raw_id(video_id: str) -> str:
    return parts(video_id)["video_id"]


def modelless(video_id: str) -> str:
    """The id 1.106.12 answered on retrieve for the same video: no model, no deployment."""
    text = MODELLESS_TEXT.format(raw=raw_id(video_id))
    return "video_" + base64.b64encode(text.encode()).decode()


def create(client: httpx.Client, model: str = "sora-2") -> Json:
    body = {"model": model, "prompt": "A calico cat on stage", "seconds": "4", "size": "720x1280"}
    response = client.post("/v1/videos", json=body)
    assert response.status_code == 200, response.text
    video: Json = response.json()
    return video


def completed(simulator: httpx.Client, raw: str) -> Json:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        video: Json = simulator.get(f"/videos/{raw}").json()
        if video["status"] == "completed":
            return video
        time.sleep(0.1)
    raise AssertionError(f"{raw} did not complete")


def remix(client: httpx.Client, video_id: str, extra: Json) -> httpx.Response:
    return client.post(f"/v1/videos/{video_id}/remix", json={"prompt": "In red", **extra})


def edit(client: httpx.Client, video_id: str, extra: Json) -> httpx.Response:
    body = {"prompt": "In red", "video": {"id": video_id}, **extra}
    return client.post("/v1/videos/edits", json=body)


def extend(client: httpx.Client, video_id: str, extra: Json) -> httpx.Response:
    body = {"prompt": "And then", "seconds": "4", "video": {"id": video_id}, **extra}
    return client.post("/v1/videos/extensions", json=body)


Derive = Callable[[httpx.Client, str, Json], httpx.Response]
DERIVED = [pytest.param(op, id=op.__name__) for op in (remix, edit, extend)]


def test_start_reaches_nothing_past_loopback(gateways: Gateways) -> None:
    assert gateways.outbound_at_start == []


@pytest.mark.parametrize(("model", "length"), [("sora-2", 242), ("sora-2-pro", 250)])
def test_create_answers_base64_of_provider_model_upstream_id_and_deployment(
    plain: httpx.Client, simulator: httpx.Client, model: str, length: int
) -> None:
    video = create(plain, model)
    raw, deployment = raw_id(video["id"]), parts(video["id"])["deployment_id"]
    assert decode(video["id"]) == ID_TEXT.format(model=model, raw=raw, dep=deployment)
    assert DEPLOYMENT.fullmatch(deployment)
    assert len(video["id"]) == length
    assert set(video["id"]) <= ID_CHARACTERS
    assert simulator.get(f"/videos/{raw}").status_code == 200


def test_each_deployment_has_its_own_id_part(plain: httpx.Client) -> None:
    first, second = create(plain, "sora-2"), create(plain, "sora-2-pro")
    again = create(plain, "sora-2")
    assert parts(first["id"])["deployment_id"] == parts(again["id"])["deployment_id"]
    assert parts(first["id"])["deployment_id"] != parts(second["id"])["deployment_id"]


def test_create_answers_the_upstream_fields_and_a_usage_of_its_own(plain: httpx.Client) -> None:
    video = create(plain)
    assert video["status"] == "queued"
    assert video["progress"] == 0
    assert isinstance(video["created_at"], int)
    assert video["seconds"] == "4"
    assert video["size"] == "720x1280"
    assert video["completed_at"] is None
    assert video["usage"] == {"duration_seconds": 4.0}


def test_create_takes_multipart_with_an_image(plain: httpx.Client, simulator: httpx.Client) -> None:
    png = BytesIO()
    Image.new("RGB", (720, 1280), "red").save(png, format="PNG")
    fields = {"model": "sora-2", "prompt": "From this frame", "seconds": "4", "size": "720x1280"}
    files = {"input_reference": ("frame.png", png.getvalue(), "image/png")}
    response = plain.post("/v1/videos", data=fields, files=files)
    assert response.status_code == 200, response.text
    video_id = response.json()["id"]
    assert parts(video_id)["model_id"] == "sora-2"
    assert simulator.get(f"/videos/{raw_id(video_id)}").status_code == 200


def test_retrieve_answers_the_id_it_was_asked_for(
    plain: httpx.Client, simulator: httpx.Client
) -> None:
    """#33423 (retrieve answered another id, without the model) is gone in 1.108."""
    created = create(plain, "sora-2-pro")
    completed(simulator, raw_id(created["id"]))
    retrieved = plain.get(f"/v1/videos/{created['id']}").json()
    assert retrieved["id"] == created["id"]
    assert (retrieved["status"], retrieved["progress"]) == ("completed", 100)
    assert isinstance(retrieved["expires_at"], int)


def test_an_id_without_the_model_is_sent_to_openai(
    plain: httpx.Client, simulator: httpx.Client, outbound: Outbound
) -> None:
    response = plain.get(f"/v1/videos/{modelless(create(plain)['id'])}")
    assert response.status_code == 500
    assert outbound.take() == [TO_OPENAI]


def test_completion_model_retrieves_an_id_without_the_model(
    pinned: httpx.Client, simulator: httpx.Client, outbound: Outbound
) -> None:
    old = modelless(create(pinned)["id"])
    again = pinned.get(f"/v1/videos/{old}")
    assert again.status_code == 200, again.text
    # Answered re-encoded with the deployment's hash as both model and deployment.
    answered = parts(again.json()["id"])
    assert answered["video_id"] == raw_id(old)
    assert answered["model_id"] == answered["deployment_id"]
    assert DEPLOYMENT.fullmatch(answered["deployment_id"])
    assert outbound.take() == []


def test_completion_model_overrides_the_model_asked_for(
    pinned: httpx.Client, simulator: httpx.Client
) -> None:
    """`resolve_inference_model` puts `completion_model` ahead of the body's `model`: the answer
    says sora-2-pro, the upstream made sora-2."""
    video = create(pinned, "sora-2-pro")
    assert video["model"] == "sora-2-pro"
    assert parts(video["id"])["model_id"] == "sora-2"
    assert simulator.get(f"/videos/{raw_id(video['id'])}").json()["model"] == "sora-2"


def test_without_completion_model_the_upstream_makes_the_model_asked_for(
    plain: httpx.Client, simulator: httpx.Client
) -> None:
    video = create(plain, "sora-2-pro")
    assert simulator.get(f"/videos/{raw_id(video['id'])}").json()["model"] == "sora-2-pro"


@pytest.mark.parametrize("query", ["", "?model=sora-2", "?limit=1"])
def test_list_without_a_provider_is_a_400(plain: httpx.Client, query: str) -> None:
    response = plain.get(f"/v1/videos{query}")
    assert response.status_code == 400
    assert "LLM Provider NOT provided" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?custom_llm_provider=openai", {}), ("", {"custom-llm-provider": "openai"})],
)
def test_list_with_a_provider_is_sent_to_openai(
    plain: httpx.Client, outbound: Outbound, query: str, headers: dict[str, str]
) -> None:
    response = plain.get(f"/v1/videos{query}", headers=headers)
    assert response.status_code == 500
    assert outbound.take() == [TO_OPENAI]


def test_completion_model_lists_ids_without_the_deployment_and_ignores_limit(
    pinned: httpx.Client,
) -> None:
    first, second = create(pinned), create(pinned)
    response = pinned.get("/v1/videos", params={"limit": 1})
    assert response.status_code == 200, response.text
    page = response.json()
    ids = [video["id"] for video in page["data"]]
    # Each item's own model, but no deployment: a list id is not the id create answered.
    listed = {raw_id(i): parts(i) for i in ids}
    for created in (first, second):
        expected = {k: v for k, v in parts(created["id"]).items() if k != "deployment_id"}
        assert listed[raw_id(created["id"])] == expected
        assert created["id"] not in ids
    assert len(ids) > 1
    assert page["first_id"] == ids[0]


def test_delete_is_not_routed(plain: httpx.Client, simulator: httpx.Client) -> None:
    video = create(plain)
    response = plain.delete(f"/v1/videos/{video['id']}")
    assert response.status_code == 405
    assert response.json() == {"detail": "Method Not Allowed"}
    assert simulator.get(f"/videos/{raw_id(video['id'])}").status_code == 200


def test_content_ignores_the_variant(plain: httpx.Client, simulator: httpx.Client) -> None:
    video = create(plain)
    raw = raw_id(video["id"])
    completed(simulator, raw)
    response = plain.get(f"/v1/videos/{video['id']}/content", params={"variant": "thumbnail"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "video/mp4"
    assert response.content == simulator.get(f"/videos/{raw}/content").content
    thumbnail = simulator.get(f"/videos/{raw}/content", params={"variant": "thumbnail"})
    assert response.content != thumbnail.content


@pytest.mark.parametrize("derive", DERIVED)
def test_derived_from_a_created_id_reaches_upstream_with_the_decoded_id(
    plain: httpx.Client, simulator: httpx.Client, derive: Derive
) -> None:
    source = create(plain)
    raw = raw_id(source["id"])
    completed(simulator, raw)
    response = derive(plain, source["id"], {})
    assert response.status_code == 200, response.text
    derived = response.json()
    # 1.108 keeps the model and deployment, so the derived job can be followed and derived from.
    assert parts(derived["id"]) == {**parts(source["id"]), "video_id": raw_id(derived["id"])}
    upstream = simulator.get(f"/videos/{raw_id(derived['id'])}").json()
    assert upstream["remixed_from_video_id"] == raw
    retrieved = plain.get(f"/v1/videos/{derived['id']}")
    assert retrieved.status_code == 200, retrieved.text
    assert retrieved.json()["id"] == derived["id"]


@pytest.mark.parametrize("derive", DERIVED)
def test_derived_from_an_id_without_the_model_is_sent_to_openai(
    plain: httpx.Client, simulator: httpx.Client, outbound: Outbound, derive: Derive
) -> None:
    source = create(plain)
    completed(simulator, raw_id(source["id"]))
    assert derive(plain, modelless(source["id"]), {}).status_code == 500
    assert outbound.take() == [TO_OPENAI]


@pytest.mark.parametrize("derive", DERIVED)
def test_a_model_in_the_body_routes_an_id_without_the_model(
    plain: httpx.Client, simulator: httpx.Client, outbound: Outbound, derive: Derive
) -> None:
    source = create(plain)
    raw = raw_id(source["id"])
    completed(simulator, raw)
    response = derive(plain, modelless(source["id"]), {"model": "sora-2"})
    assert response.status_code == 200, response.text
    upstream = simulator.get(f"/videos/{raw_id(response.json()['id'])}").json()
    assert upstream["remixed_from_video_id"] == raw
    assert outbound.take() == []


@pytest.mark.parametrize("derive", DERIVED)
def test_completion_model_routes_derived_from_an_id_without_the_model(
    pinned: httpx.Client, simulator: httpx.Client, outbound: Outbound, derive: Derive
) -> None:
    source = create(pinned)
    raw = raw_id(source["id"])
    completed(simulator, raw)
    response = derive(pinned, modelless(source["id"]), {})
    assert response.status_code == 200, response.text
    upstream = simulator.get(f"/videos/{raw_id(response.json()['id'])}").json()
    assert upstream["remixed_from_video_id"] == raw
    assert outbound.take() == []
