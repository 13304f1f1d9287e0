"""A preset's missing operations are known before the first request, and refused unsent."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import pytest
import respx
from pydantic import ValidationError

from bot.videoapi.client import VideoClient
from bot.videoapi.errors import UnsupportedOperationError
from bot.videoapi.models import Operation, Upload
from bot.videoapi.presets import PRESETS, PresetName, overridden, preset

from .conftest import MakeClient
from .helpers import video_json

CLIP = Upload("clip.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42")
GENERATION_ONLY = {
    Operation.EDIT,
    Operation.EXTEND,
    Operation.REMIX,
    Operation.CREATE_CHARACTER,
    Operation.GET_CHARACTER,
}
MISSING: dict[PresetName, set[Operation]] = {
    "openai": set(),
    "generic": set(),
    "litellm": {Operation.DELETE, Operation.LIST},
    "vllm-omni": GENERATION_ONLY,
    "sglang": GENERATION_ONLY,
    "aquiles": GENERATION_ONLY,
    "openrouter": {
        Operation.DELETE,
        Operation.LIST,
        Operation.CREATE_CHARACTER,
        Operation.GET_CHARACTER,
    },
}
# One call per operation that a preset may lack, with valid inputs.
CALLS: dict[Operation, Callable[[VideoClient], Awaitable[object]]] = {
    Operation.EDIT: lambda client: client.edit("video_1", "at night"),
    Operation.EXTEND: lambda client: client.extend("video_1", "keep going", "8"),
    Operation.REMIX: lambda client: client.remix("video_1", "at night"),
    Operation.CREATE_CHARACTER: lambda client: client.create_character("Mo", CLIP),
    Operation.GET_CHARACTER: lambda client: client.get_character("char_1"),
    Operation.LIST: lambda client: client.list(),
    Operation.DELETE: lambda client: client.delete("video_1"),
}


def test_every_preset_is_listed_here() -> None:
    assert set(PRESETS) == set(MISSING)


def test_an_overridden_preset_keeps_its_own_values_where_none_is_given() -> None:
    profile = overridden("litellm", models=("sora-2-pro",), sizes=None, requests_per_minute=5.0)
    assert profile.models == ("sora-2-pro",)
    assert profile.requests_per_minute == 5.0
    assert profile.sizes == PRESETS["litellm"].sizes
    assert profile.missing == PRESETS["litellm"].missing


def test_an_override_is_validated_and_a_misspelt_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="body"):
        overridden("openai", body="xml")
    with pytest.raises(TypeError, match="model_list"):
        overridden("openai", model_list=("sora-2",))


@pytest.mark.parametrize("name", list(MISSING))
def test_each_preset_lacks_what_its_server_lacks(name: PresetName) -> None:
    assert preset(name).missing == MISSING[name]


@pytest.mark.parametrize("name", list(MISSING))
async def test_a_presets_missing_operations_are_unsupported_before_any_request(
    router: respx.Router, make_client: MakeClient, name: PresetName
) -> None:
    anything = router.route()
    client = make_client(profile=preset(name))

    assert client.unsupported == MISSING[name]
    for operation in Operation:
        assert client.supports(operation) is (False if operation in MISSING[name] else None)
    assert anything.call_count == 0


@pytest.mark.parametrize(
    ("name", "operation"),
    [(name, operation) for name, missing in MISSING.items() for operation in sorted(missing)],
)
async def test_a_presets_missing_operation_is_refused_without_a_request(
    router: respx.Router, make_client: MakeClient, name: PresetName, operation: Operation
) -> None:
    anything = router.route().respond(json=video_json())
    client = make_client(profile=preset(name))

    with pytest.raises(UnsupportedOperationError) as raised:
        await CALLS[operation](client)

    assert raised.value.operation == operation
    assert anything.call_count == 0


@pytest.mark.parametrize("name", ["vllm-omni", "sglang", "aquiles", "litellm"])
async def test_what_a_preset_does_not_lack_is_still_sent(
    router: respx.Router, make_client: MakeClient, name: PresetName
) -> None:
    create = router.post("/videos").respond(json=video_json())
    retrieve = router.get("/videos/video_123").respond(json=video_json())
    client = make_client(profile=preset(name))

    video = await client.create("a cat")
    await client.retrieve(video.id)

    assert (create.call_count, retrieve.call_count) == (1, 1)
    assert client.supports(Operation.CREATE) is True
    assert client.supports(Operation.RETRIEVE) is True


async def test_vllm_omni_sends_a_form_at_once(
    router: respx.Router, make_client: MakeClient
) -> None:
    # It answers JSON with a 400, not a 415: auto could never find out.
    route = router.post("/videos").respond(json=video_json())
    client = make_client(profile=preset("vllm-omni"))

    await client.create("a cat")

    assert route.call_count == 1
    assert route.calls.last.request.headers["content-type"].startswith("multipart/form-data")


@pytest.mark.parametrize("name", ["litellm", "aquiles"])
async def test_json_presets_send_json(
    router: respx.Router, make_client: MakeClient, name: PresetName
) -> None:
    route = router.post("/videos").respond(json=video_json())
    client = make_client(profile=preset(name))

    await client.create("a cat")

    assert route.calls.last.request.headers["content-type"] == "application/json"


async def test_aquiles_asks_for_its_own_default_model(
    router: respx.Router, make_client: MakeClient
) -> None:
    route = router.post("/videos").respond(json=video_json(model="wan2.2"))
    client = make_client(profile=preset("aquiles"))

    await client.create("a cat")

    assert json.loads(route.calls.last.request.content)["model"] == "wan2.2"
