"""How a click or a form's submit reaches the handler the button table names: through the
button's own DynamicItem callback, or for a submit through PromptForm by its template; who may
press is checked on the row read at that moment, errors are answered, stale ids told so."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import discord

from bot.delivery import InteractionPoster
from bot.errors import VideoNotFound
from bot.interactions.buttons import ACTIONS, PROMPT_MAX, STALE, VideoAction, route_unanswered
from bot.interactions.tree import describe
from bot.storage import VideoRow
from bot.videoapi.models import ContentVariant, Operation
from tests.rows import video_row

ROW = video_row(key=4711, owner_id=1, guild_id=2, channel_id=3)
ALICE, BOB = 1, 9


@dataclass
class Jobs:
    row: VideoRow | None
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def visible(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        self.calls.append(("visible", ref, user_id, guild_id))
        if self.row is None:
            raise VideoNotFound()
        return self.row

    async def parent(
        self, ref: str, user_id: int, guild_id: int | None, operation: Operation
    ) -> VideoRow:
        self.calls.append(("parent", ref, operation))
        assert self.row is not None
        return self.row

    def downloadable(self, row: VideoRow) -> VideoRow:
        self.calls.append(("downloadable", row.key))
        return row

    def derived(self, kind: str, parent: VideoRow, prompt: str, **kwargs: Any) -> str:
        self.calls.append(("derived", kind, parent.key, prompt, kwargs["seconds"]))
        return "request"

    async def start(self, request: str, poster: object, asker: object) -> None:
        self.calls.append(("start", request, type(poster)))

    async def cancel(self, ref: str, user_id: int, guild_id: int | None) -> VideoRow:
        self.calls.append(("cancel", ref))
        assert self.row is not None
        return self.row

    def provider_of(self, row: VideoRow) -> Api:
        return Api()


@dataclass
class Delivery:
    calls: list[tuple[Any, ...]] = field(default_factory=list)

    async def send_asset(self, row: VideoRow, variant: ContentVariant, interaction: Any) -> None:
        self.calls.append(("send_asset", row.key, variant))

    async def cancelled(self, row: VideoRow, interaction: Any) -> None:
        self.calls.append(("cancelled", row.key))


@dataclass
class Cooldown:
    hits: list[int] = field(default_factory=list)

    def hit(self, member_id: int) -> None:
        self.hits.append(member_id)


@dataclass
class Profile:
    extend_seconds: tuple[str, ...] = ("4", "8", "12")


@dataclass
class Api:
    profile: Profile = field(default_factory=Profile)


@dataclass
class Host:
    jobs: Jobs
    delivery: Delivery = field(default_factory=Delivery)
    asset_cooldown: Cooldown = field(default_factory=Cooldown)


@dataclass
class Response:
    sent: list[tuple[Any, ...]] = field(default_factory=list)

    def is_done(self) -> bool:
        return bool(self.sent)

    async def send_message(
        self, content: str, *, view: discord.ui.View | None = None, ephemeral: bool = False
    ) -> None:
        self.sent.append(("message", content, view, ephemeral))

    async def send_modal(self, modal: discord.ui.Modal) -> None:
        self.sent.append(("modal", modal))


@dataclass
class User:
    id: int


@dataclass
class Interaction:
    client: Host
    user: User
    type: discord.InteractionType = discord.InteractionType.component
    data: dict[str, Any] = field(default_factory=dict)
    response: Response = field(default_factory=Response)
    guild_id: int | None = 2
    guild: None = None
    channel_id: int | None = 3
    channel: None = None
    command: None = None


def clicked(row: VideoRow | None = ROW, user: int = ALICE) -> Any:
    return Interaction(Host(Jobs(row)), User(user))


async def click(action: str, interaction: Any, ref: str = "#4711") -> None:
    item = VideoAction(ACTIONS[action], ref, f"videobot:v2:{action}:4711")
    await item.callback(interaction)


def submitted(custom_id: str, **values: str) -> Any:
    data = {
        "custom_id": custom_id,
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": name, "value": value}]}
            for name, value in values.items()
        ],
    }
    return Interaction(
        Host(Jobs(ROW)), User(ALICE), type=discord.InteractionType.modal_submit, data=data
    )


def never(custom_id: str) -> bool:
    return False


async def test_a_click_runs_the_handler_the_table_names() -> None:
    interaction = clicked()
    await click("spritesheet", interaction)
    host = interaction.client
    assert host.jobs.calls == [("visible", "#4711", ALICE, 2), ("downloadable", 4711)]
    assert host.asset_cooldown.hits == [ALICE]
    assert host.delivery.calls == [("send_asset", 4711, "spritesheet")]


async def test_a_click_on_a_form_button_opens_its_form_and_starts_nothing() -> None:
    interaction = clicked()
    await click("extend", interaction)
    assert interaction.client.jobs.calls == [("parent", "#4711", Operation.EXTEND)]
    [(kind, form)] = interaction.response.sent
    assert (kind, form.custom_id) == ("modal", "videobot:v2:form:extend:4711")


async def test_a_submitted_form_starts_the_derived_job_from_its_payload() -> None:
    interaction = submitted("videobot:v2:form:extend:4711", prompt="and then", seconds=" 8 ")
    await route_unanswered(interaction, never)
    # The parent is read again: it may have been deleted while the form was open.
    assert interaction.client.jobs.calls == [
        ("parent", "#4711", Operation.EXTEND),
        ("derived", "extend", 4711, "and then", "8"),
        ("start", "request", InteractionPoster),
    ]
    assert interaction.response.sent == []


async def test_a_too_long_prompt_is_refused_before_the_video_is_read() -> None:
    interaction = submitted("videobot:v2:form:remix:4711", prompt="x" * (PROMPT_MAX + 1))
    await route_unanswered(interaction, never)
    assert interaction.client.jobs.calls == []
    [(_, text, _, ephemeral)] = interaction.response.sent
    assert (text, ephemeral) == ("The prompt must be at most 4,000 characters.", True)


async def test_delete_asks_its_owner_with_a_button_that_survives_a_restart() -> None:
    interaction = clicked()
    await click("delete", interaction)
    [(_, text, view, ephemeral)] = interaction.response.sent
    assert text.startswith("Delete this video for everyone?")
    assert ephemeral
    assert [item.custom_id for item in view.children] == ["videobot:v2:confirm-delete:4711"]


async def test_who_may_press_is_checked_before_the_handler_runs() -> None:
    interaction = clicked(user=BOB)
    await click("delete", interaction)
    [(_, text, view, ephemeral)] = interaction.response.sent
    assert text == "Only the owner can delete this video (or a moderator of its server)."
    assert (view, ephemeral) == (None, True)


async def test_an_error_of_a_click_is_answered_not_raised() -> None:
    interaction = clicked(row=None)
    await click("thumbnail", interaction)
    assert interaction.client.delivery.calls == []
    [(_, text, _, ephemeral)] = interaction.response.sent
    assert (text, ephemeral) == (describe(VideoNotFound()), True)


async def test_cancel_goes_to_jobs_then_to_the_card() -> None:
    interaction = clicked()
    await click("cancel", interaction)
    assert interaction.client.jobs.calls[-1] == ("cancel", "#4711")
    assert interaction.client.delivery.calls == [("cancelled", 4711)]


async def test_ids_of_ours_that_nothing_answers_are_told_so() -> None:
    stale_form = submitted("videobot:v2:form:delete:4711", prompt="x")
    await route_unanswered(stale_form, never)
    assert stale_form.response.sent == [("message", STALE, None, True)]

    stale_button = clicked()
    stale_button.data = {"custom_id": "videobot:v2:frobnicate:4711"}
    await route_unanswered(stale_button, never)
    assert stale_button.response.sent == [("message", STALE, None, True)]


async def test_ids_a_registered_item_answers_or_not_ours_are_left_alone() -> None:
    for custom_id, handles in (("videobot:v2:remix:4711", True), ("someone-else:1", False)):
        interaction = clicked()
        interaction.data = {"custom_id": custom_id}
        await route_unanswered(interaction, lambda _, h=handles: h)
        assert interaction.response.sent == []
        assert interaction.client.jobs.calls == []
