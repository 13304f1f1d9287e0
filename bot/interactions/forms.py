"""The create form: `/video` without a prompt opens it, and its submit starts the job as the
slash command does.

Five fields, Discord's most for a modal: the prompt; a reference image through a file upload
(Discord takes any file up to the member's upload limit there; the submit checks it is a PNG,
JPEG or WebP within the bot's own bound, as the slash option's image is checked); the model as
a select with each price; size and seconds as radio groups (a select past a radio group's ten
options; left out when there is only one, which is then used). A model's own sizes and seconds
are checked on submit, with the same words as the slash options get.

The submit is routed as every form of ours is (bot/interactions/buttons.py `route_unanswered`):
from its payload alone, so a form opened before a restart is still answered after it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, cast

import discord

from bot.delivery.posters import CardPoster, InteractionPoster
from bot.errors import UserError
from bot.interactions.who import asker_of
from bot.media import images
from bot.ui.choices import LABEL_MAX, allowed_offers, offer_label
from bot.ui.layout import SELECT_OPTIONS
from bot.ui.text import size_text
from bot.videoapi.models import Upload

if TYPE_CHECKING:
    from discord.types.message import Attachment as AttachmentPayload

    from bot.jobs.service import Jobs
    from bot.videoapi.providers import Providers, Route

# Discord's most for a text input.
PROMPT_MAX: Final = 4000
CREATE_FORM_ID: Final = "videobot:v2:form:create"
# Discord's bound: a radio group holds 2 to 10 options (a select, `SELECT_OPTIONS`).
RADIO_MAX: Final = 10
PROMPT, IMAGE, MODEL, SIZE, SECONDS = "prompt", "image", "model", "size", "seconds"


class FormHost(Protocol):
    """The parts of the bot the form uses, read from `interaction.client`."""

    @property
    def jobs(self) -> Jobs[CardPoster]: ...


async def _reference(image: discord.Attachment, size: str) -> Upload:
    """The attached image, fitted to the video's size, as the job's first frame."""
    fitted = await asyncio.to_thread(images.fit_reference, await image.read(), size)
    return Upload("reference.png", "image/png", fitted)


async def start_create(
    jobs: Jobs[CardPoster],
    interaction: discord.Interaction[Any],
    prompt: str,
    *,
    model: str | None,
    size: str | None,
    seconds: str | None,
    image: discord.Attachment | None,
) -> None:
    """A new video from the slash command's options or the form's answers."""
    loader = None
    if image is not None:
        images.check_attachment(image.content_type, image.size)
        loader = functools.partial(_reference, image)
    request = jobs.created(
        prompt,
        model=model,
        size=size,
        seconds=seconds,
        owner_id=interaction.user.id,
        guild_id=interaction.guild_id,
        channel_id=interaction.channel_id or 0,
        image=loader,
    )
    await jobs.start(request, InteractionPoster(interaction), asker_of(interaction))


# -- drawing ---------------------------------------------------------------------------------


def _sizes(route: Route) -> tuple[str, ...]:
    return route.backend.profile.sizes_for(route.model)


def _seconds(route: Route) -> tuple[str, ...]:
    return route.backend.profile.seconds_for(route.model)


def _union(values: list[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for group in values for v in group))


def _choice(custom_id: str, values: tuple[str, ...], chosen: str) -> discord.ui.Item[Any]:
    """A radio group of `values`, or a select when there are more than a radio group holds."""
    shown = [v for v in values if len(v) <= LABEL_MAX][:SELECT_OPTIONS]
    if len(shown) <= RADIO_MAX:
        radio: discord.ui.RadioGroup[Any] = discord.ui.RadioGroup(custom_id=custom_id)
        for value in shown:
            radio.add_option(label=value, value=value, default=value == chosen)
        return radio
    return discord.ui.Select(
        custom_id=custom_id,
        options=[discord.SelectOption(label=v, value=v, default=v == chosen) for v in shown],
    )


def create_form(
    providers: Providers,
    allowed: frozenset[str] = frozenset(),
    *,
    model: str | None = None,
    size: str | None = None,
    seconds: str | None = None,
) -> discord.ui.Modal:
    """The create form, with `model`, `size` and `seconds` (a slash command's) chosen, offering
    the models the server may use across every provider (`allowed` empty: every one)."""
    named = len(providers) > 1
    offers = [o for o in allowed_offers(providers.offers(), allowed) if len(o.model) <= LABEL_MAX]
    offers = offers[:SELECT_OPTIONS]
    if not offers:
        raise UserError("No model is offered here: an admin can allow some with /limits models.")
    models = [o.model for o in offers]
    routes = {m: providers.route(m) for m in models}
    chosen = model if model in models else models[0]
    # Not kept in memory for long: a submit is read from its payload, also after a restart.
    form = discord.ui.Modal(title="Make a video", custom_id=CREATE_FORM_ID, timeout=1.0)
    form.add_item(
        discord.ui.Label(
            text="Prompt",
            description="What the video shows",
            component=discord.ui.TextInput(
                custom_id=PROMPT, style=discord.TextStyle.paragraph, max_length=PROMPT_MAX
            ),
        )
    )
    form.add_item(
        discord.ui.Label(
            text="Reference image (optional)",
            description=f"PNG, JPEG or WebP, {size_text(images.MAX_IMAGE_BYTES)} at most: "
            "the first frame",
            component=discord.ui.FileUpload(custom_id=IMAGE, required=False, max_values=1),
        )
    )
    form.add_item(
        discord.ui.Label(
            text="Model",
            description="Price per second of video",
            component=discord.ui.Select(
                custom_id=MODEL,
                options=[
                    discord.SelectOption(
                        label=offer_label(o, named=named), value=o.model, default=o.model == chosen
                    )
                    for o in offers
                ],
            ),
        )
    )
    for custom_id, text, given, allowed_for in (
        (SIZE, "Size", size, _sizes),
        (SECONDS, "Seconds", seconds, _seconds),
    ):
        values = _union([allowed_for(routes[m]) for m in models])
        if len(values) < 2:
            continue
        picked = given if given in values else allowed_for(routes[chosen])[0]
        form.add_item(
            discord.ui.Label(
                text=text,
                description="Each model takes its own; a mismatch is said on submit",
                component=_choice(custom_id, values, picked),
            )
        )
    return form


# -- the submit ------------------------------------------------------------------------------


def answers(data: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each field's answer by custom id: a text input's or a radio group's value, a select's or
    a file upload's values (attachment ids)."""
    found: dict[str, tuple[str, ...]] = {}
    for row in data.get("components") or []:
        # Fields come in labels, or (older clients) in action rows.
        for item in row.get("components") or [row.get("component") or {}]:
            if "custom_id" not in item:
                continue
            if "values" in item:
                found[str(item["custom_id"])] = tuple(str(v) for v in item["values"] or ())
            else:
                value = item.get("value")
                found[str(item["custom_id"])] = () if value in (None, "") else (str(value),)
    return found


class CreateForm:
    """The create form's submit, rebuilt from its payload."""

    def __init__(self, values: Mapping[str, tuple[str, ...]], attachments: Mapping[str, Any]):
        self.values = values
        # The uploaded files Discord resolved, by id, as it sent them.
        self.attachments = attachments

    @classmethod
    def from_custom_id(cls, custom_id: str, data: Mapping[str, Any]) -> CreateForm | None:
        if custom_id != CREATE_FORM_ID:
            return None
        resolved = data.get("resolved") or {}
        return cls(answers(data), resolved.get("attachments") or {})

    def _one(self, custom_id: str) -> str | None:
        given = self.values.get(custom_id, ())
        return given[0] if given else None

    def image(self, interaction: discord.Interaction[Any]) -> discord.Attachment | None:
        ids = self.values.get(IMAGE, ())
        if not ids:
            return None
        raw = self.attachments.get(ids[0])
        if not isinstance(raw, dict):
            raise UserError("Discord did not send the image; attach it again.")
        # discord.py resolves a modal's files only for modals it keeps in memory.
        return discord.Attachment(data=cast("AttachmentPayload", raw), state=interaction._state)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        prompt = self._one(PROMPT) or ""
        if len(prompt) > PROMPT_MAX:
            raise UserError(f"The prompt must be at most {PROMPT_MAX:,} characters.")
        host = cast("FormHost", interaction.client)
        await start_create(
            host.jobs,
            interaction,
            prompt,
            model=self._one(MODEL),
            size=self._one(SIZE),
            seconds=self._one(SECONDS),
            image=self.image(interaction),
        )
