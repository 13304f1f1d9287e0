"""The create form: `/video` without a prompt opens it; its submit, with an uploaded image,
makes the job as the slash command does, the image reaching the provider as the first frame."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any, cast

import pytest
from PIL import Image

from bot.interactions.forms import create_form
from bot.simulator import handlers
from bot.simulator.forms import FilePart, Reference
from bot.videoapi.capabilities import Capabilities
from bot.videoapi.models import Operation
from bot.videoapi.profile import ProviderProfile
from bot.videoapi.providers import Providers

from .botenv import StartBot
from .fake_discord import DiscordError, check_modal
from .harness import Upload
from .views import (
    JSON,
    card_text,
    ephemeral_answer,
    field,
    has_card,
    has_mp4,
    public,
    video_key,
)

FOX_RED = (220, 30, 20)
# What create_form reads of the bot's API: the contract's default profile, every model served.
API = Providers.single(
    cast(Any, SimpleNamespace(profile=ProviderProfile(), capabilities=Capabilities()))
)


def solid_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, "PNG")
    return out.getvalue()


def fields_of(modal: JSON | None) -> dict[str, JSON]:
    """A form's fields by custom id, each with its label's text."""
    assert modal is not None, "no form was opened"
    found = {}
    for top in modal["components"]:
        assert top["type"] == 18, "every field sits in a label"
        found[top["component"]["custom_id"]] = {**top["component"], "label": top["label"]}
    return found


@pytest.fixture
def references(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The reference images the simulator was sent with creates, as it received them."""
    seen: list[bytes] = []
    check = handlers.check_reference_image

    async def recording(value: FilePart | Reference | None, size: str) -> None:
        if isinstance(value, FilePart):
            seen.append(value.data)
        await check(value, size)

    monkeypatch.setattr(handlers, "check_reference_image", recording)
    return seen


async def test_create_form_opens_with_the_profiles_choices(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    rec = await h.slash("video", {"model": "sora-2-pro", "seconds": "8"}, user=h.world.alice)
    await h.response(rec)
    assert rec.response_type == 9
    assert rec.modal is not None
    assert rec.modal["title"] == "Make a video"
    form = fields_of(rec.modal)
    assert list(form) == ["prompt", "image", "model", "size", "seconds"]
    assert form["prompt"]["type"] == 4
    assert (form["image"]["type"], form["image"]["required"]) == (19, False)
    models = {o["value"]: (o["label"], o.get("default")) for o in form["model"]["options"]}
    assert models == {
        "sora-2": ("sora-2 · $0.10/s", False),
        "sora-2-pro": ("sora-2-pro · $0.30/s", True),
    }
    assert form["size"]["type"] == 21
    assert [o["value"] for o in form["size"]["options"]] == [
        "720x1280",
        "1280x720",
        "1024x1792",
        "1792x1024",
    ]
    assert [(o["value"], o.get("default")) for o in form["seconds"]["options"]] == [
        ("4", False),
        ("8", True),
        ("12", False),
    ]
    assert env.sim is not None
    assert sum(env.sim.calls.values()) == 0


async def test_create_form_with_an_uploaded_image_reaches_the_provider_as_the_first_frame(
    start_bot: StartBot, references: list[bytes]
) -> None:
    env = await start_bot(job_seconds=0.3)
    h = env.harness
    rec = await h.slash("video", {}, user=h.world.alice)
    await h.response(rec)
    values: dict[str, Any] = {
        "prompt": "a red fox running through snow",
        "model": ["sora-2"],
        "size": ["1280x720"],
        "seconds": ["4"],
    }
    image = Upload("fox.png", solid_png(640, 480, FOX_RED))
    submit = await h.submit_form(rec, values, uploads={"image": image})
    card = await h.original(submit, has_card)
    assert not h.is_ephemeral(card)
    assert "a red fox running through snow" in card_text(card)
    assert (field(card, "Size"), field(card, "Seconds")) == ("1280x720", "4")
    await h.original(submit, has_mp4, within=15)
    assert env.sim is not None
    assert env.sim.calls[Operation.CREATE] == 1

    # The upload, fitted to the video's size, went out as `input_reference`.
    [sent] = references
    with Image.open(io.BytesIO(sent)) as frame:
        assert frame.size == (1280, 720)
        assert frame.convert("RGB").getpixel((640, 360)) == FOX_RED
    row = await env.bot.videos.get_by_key(video_key(card))
    assert row is not None
    assert row.with_image


async def test_create_form_without_an_image_makes_the_video_from_the_prompt(
    start_bot: StartBot, references: list[bytes]
) -> None:
    env = await start_bot(job_seconds=0.3)
    h = env.harness
    rec = await h.slash("video", {}, user=h.world.alice)
    await h.response(rec)
    submit = await h.submit_form(rec, {"prompt": "a lighthouse", "model": ["sora-2-pro"]})
    card = await h.original(submit, has_card)
    assert field(card, "Model") == "sora-2-pro"
    assert references == []


@pytest.mark.parametrize(
    ("upload", "values", "expected"),
    [
        (
            Upload("notes.txt", b"not an image at all"),
            {},
            "The image must be a PNG, JPEG or WebP file.",
        ),
        (None, {"size": ["1792x1024"], "model": ["sora-2"], "seconds": ["5"]}, "seconds must be"),
    ],
    ids=["text-file", "seconds"],
)
async def test_create_form_refuses_what_the_slash_command_refuses(
    start_bot: StartBot, upload: Upload | None, values: dict[str, Any], expected: str
) -> None:
    env = await start_bot()
    h = env.harness
    rec = await h.slash("video", {}, user=h.world.alice)
    await h.response(rec)
    uploads = {"image": upload} if upload is not None else None
    submit = await h.submit_form(rec, {"prompt": "a cat", **values}, uploads=uploads)
    assert expected in (await ephemeral_answer(h, submit))["content"]
    assert public(h) == []
    assert env.sim is not None
    assert sum(env.sim.calls.values()) == 0


async def test_create_form_is_answered_after_a_restart(start_bot: StartBot) -> None:
    env = await start_bot(job_seconds=0.3)
    h = env.harness
    rec = await h.slash("video", {}, user=h.world.alice)
    await h.response(rec)
    # The form is read from its payload: a bot that never opened it answers it.
    again = await start_bot(job_seconds=0.3)
    submit = await again.harness.submit_form(rec, {"prompt": "a paper boat", "model": ["sora-2"]})
    await again.harness.original(submit, has_card)


async def test_create_form_an_image_with_no_prompt_is_refused(start_bot: StartBot) -> None:
    env = await start_bot()
    h = env.harness
    options = {"image": Upload("fox.png", solid_png(64, 64, FOX_RED))}
    rec = await h.slash("video", options, user=h.world.alice)
    assert "leave both out for the form" in (await ephemeral_answer(h, rec))["content"]
    assert rec.modal is None


def _six_fields(form: JSON) -> None:
    form["components"].append(form["components"][0])


def _long_label(form: JSON) -> None:
    form["components"][0]["label"] = "x" * 46


def _one_radio_option(form: JSON) -> None:
    del form["components"][3]["component"]["options"][1:]


def _upload_in_a_row(form: JSON) -> None:
    label = form["components"][1]
    form["components"][1] = {"type": 1, "components": [label["component"]]}


def _duplicate_id(form: JSON) -> None:
    form["components"][4]["component"]["custom_id"] = "prompt"


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (_six_fields, "data.components"),
        (_long_label, "data.components.0.label"),
        (_one_radio_option, "data.components.3.component.options"),
        (_upload_in_a_row, "data.components.1"),
        (_duplicate_id, "data.components.4.component.custom_id"),
    ],
)
def test_create_form_the_fake_refuses_a_form_discord_would_refuse(
    change: Callable[[JSON], None], where: str
) -> None:
    form: JSON = json.loads(json.dumps(create_form(API).to_dict()))
    check_modal(form)
    change(form)
    with pytest.raises(DiscordError) as refused:
        check_modal(form)
    assert refused.value.errors is not None
    assert list(refused.value.errors) == [where]
