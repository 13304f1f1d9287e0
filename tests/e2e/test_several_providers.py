"""Several providers at once, end to end: the simulator as the contract and the simulator's
OpenRouter dialect, each in its own process, behind one bot on the fake Discord.

Both providers' models are in one picker with their prices; a job goes to the provider of its
model; after the configuration changes (order, models, a provider removed), a video is still
remixed and downloaded where it was made, and one whose provider is gone says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.procs import free_port, start_simulator, stop, wait_for_port

from .botenv import BotEnv, StartBot
from .harness import JSON, Upload
from .views import (
    button_id,
    custom_ids,
    delivered,
    embed,
    ephemeral_answer,
    has_mp4,
    row_when,
    video_id,
    video_key,
    video_ref,
)

START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Servers:
    contract: str
    openrouter: str


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Servers]:
    """Two simulators, each its own `videobot simulator` process (their seeds differ, so their
    ids do, as two real providers' would)."""
    ports = free_port(), free_port()
    contract = start_simulator(ports[0], tmp_path / "contract.log", job_seconds=0.3, seed=1)
    openrouter = start_simulator(
        ports[1], tmp_path / "openrouter.log", job_seconds=0.3, dialect="openrouter", seed=2
    )
    try:
        wait_for_port(ports[0], contract, "the contract simulator", START_TIMEOUT)
        wait_for_port(ports[1], openrouter, "the openrouter simulator", START_TIMEOUT)
        yield Servers(f"http://127.0.0.1:{ports[0]}/v1", f"http://127.0.0.1:{ports[1]}/api/v1")
    finally:
        stop(contract, openrouter)


def providers_file(tmp_path: Path, name: str, *entries: str) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(entries), encoding="utf-8")
    return path


def contract_entry(servers: Servers, models: str = '["sora-2", "sora-2-pro"]') -> str:
    return f"""
[[providers]]
name = "contract"
kind = "openai"
base_url = "{servers.contract}"
models = {models}
price_per_second = {{ "sora-2" = 0.25 }}
"""


def openrouter_entry(servers: Servers) -> str:
    return f"""
[[providers]]
name = "openrouter"
kind = "openrouter"
base_url = "{servers.openrouter}"
models = ["google/veo-3.1-fast", "alibaba/wan-2.6"]
"""


async def start(start_bot: StartBot, path: Path) -> BotEnv:
    return await start_bot(settings={"providers_file": str(path)})


async def make(env: BotEnv, model: str, prompt: str) -> JSON:
    """The delivered card of a new video of `model`."""
    h = env.harness
    rec = await h.slash("video", {"prompt": prompt, "model": model}, user=h.world.alice)
    card = await h.original(rec, has_mp4, within=20)
    await row_when(env.bot.videos, video_id(card), delivered)
    return card


def sent(env: BotEnv, provider: str, method: str) -> list[str]:
    return [r.split(" ", 1)[1] for r in env.provider_requests[provider] if r.startswith(method)]


async def test_several_providers_in_one_picker_each_job_at_its_provider(
    start_bot: StartBot, servers: Servers, tmp_path: Path
) -> None:
    first = providers_file(
        tmp_path, "first.toml", contract_entry(servers), openrouter_entry(servers)
    )
    env = await start(start_bot, first)
    h = env.harness

    rec = await h.autocomplete("video", {"prompt": "", "model": ""}, "model", user=h.world.alice)
    await h.response(rec)
    assert [(c["name"], c["value"]) for c in rec.choices or []] == [
        ("sora-2 · contract · $0.25/s", "sora-2"),
        ("sora-2-pro · contract · $0.30/s", "sora-2-pro"),
        ("google/veo-3.1-fast · openrouter · $0.10/s", "google/veo-3.1-fast"),
        ("alibaba/wan-2.6 · openrouter · $0.10/s", "alibaba/wan-2.6"),
    ]

    sora_card = await make(env, "sora-2", "a kite over dunes")
    veo_card = await make(env, "google/veo-3.1-fast", "rain on a tin roof")
    sora, veo = video_ref(sora_card), video_ref(veo_card)
    # Each card's buttons are its provider's: OpenRouter cannot delete, the contract can.
    assert button_id("delete", video_key(sora_card)) in custom_ids(sora_card)
    assert button_id("delete", video_key(veo_card)) not in custom_ids(veo_card)
    alice = int(h.world.alice["id"])
    rows = {ref: await env.bot.videos.visible(ref, alice, None) for ref in (sora, veo)}
    assert rows[sora] is not None
    assert rows[veo] is not None
    assert (rows[sora].provider, rows[sora].model) == ("contract", "sora-2")
    assert (rows[veo].provider, rows[veo].model) == ("openrouter", "google/veo-3.1-fast")
    # Each create went to its own provider, once; each video was fetched from where it was made.
    assert sent(env, "contract", "POST") == ["/v1/videos"]
    assert sent(env, "openrouter", "POST") == ["/api/v1/videos"]
    assert f"/v1/videos/{rows[sora].id}/content" in sent(env, "contract", "GET")
    assert not any(rows[sora].id in path for path in sent(env, "openrouter", "GET"))
    assert not any(rows[veo].id in path for path in sent(env, "contract", "GET"))

    # /extend offers the lengths of the provider that made the video.
    for ref, lengths in ((sora, ["4", "8", "12", "16", "20"]), (veo, ["4", "6", "8"])):
        options = {"video": ref, "prompt": "", "seconds": ""}
        rec = await h.autocomplete("extend", options, "seconds", user=h.world.alice)
        await h.response(rec)
        assert [c["value"] for c in rec.choices or []] == lengths

    # /help lists both providers' models; /limits models narrows what this server may use.
    help_answer = await ephemeral_answer(h, await h.slash("help", user=h.world.alice))
    [models] = [f["value"] for f in help_answer["embeds"][0]["fields"] if f["name"] == "Models"]
    assert "`sora-2` · contract · $0.25/s" in models
    assert "`alibaba/wan-2.6` · openrouter · $0.10/s" in models
    rec = await h.slash(
        "limits models", {"model": "alibaba/wan-2.6", "use": "allow"}, user=h.world.owner
    )
    assert (await ephemeral_answer(h, rec))["content"] == (
        "Models allowed here:\n`alibaba/wan-2.6` · openrouter · $0.10/s"
    )
    rec = await h.autocomplete("video", {"prompt": "", "model": ""}, "model", user=h.world.bob)
    await h.response(rec)
    assert [c["value"] for c in rec.choices or []] == ["alibaba/wan-2.6"]
    rec = await h.slash("video", {"prompt": "a cat", "model": "sora-2"}, user=h.world.bob)
    assert (await ephemeral_answer(h, rec))["content"] == (
        "sora-2 is not used in this server; its admins allow: alibaba/wan-2.6."
    )
    assert sent(env, "contract", "POST") == ["/v1/videos"]


async def test_routing_after_a_configuration_change_remix_and_download_go_where_made(
    start_bot: StartBot, servers: Servers, tmp_path: Path
) -> None:
    first = providers_file(
        tmp_path, "first.toml", contract_entry(servers), openrouter_entry(servers)
    )
    env = await start(start_bot, first)
    sora = video_ref(await make(env, "sora-2", "a kite over dunes"))
    veo = video_ref(await make(env, "google/veo-3.1-fast", "rain on a tin roof"))
    await env.harness.close()

    # Later: OpenRouter first, and the contract no longer offers the model sora-2 was made with.
    second = providers_file(
        tmp_path,
        "second.toml",
        openrouter_entry(servers),
        contract_entry(servers, models='["sora-2-pro"]'),
    )
    env = await start(start_bot, second)
    h = env.harness
    alice = h.world.alice
    sora_row = await env.bot.videos.visible(sora, int(alice["id"]), None)
    veo_row = await env.bot.videos.visible(veo, int(alice["id"]), None)
    assert sora_row is not None
    assert veo_row is not None

    rec = await h.slash("videos download", {"video": sora, "variant": "video"}, user=alice)
    reply = await ephemeral_answer(h, rec, within=20)
    assert [a["filename"] for a in reply["attachments"]] == [f"video-{sora_row.key}.mp4"]
    assert sent(env, "contract", "GET") == [f"/v1/videos/{sora_row.id}/content"]

    rec = await h.slash("remix", {"video": sora, "prompt": "now at night"}, user=alice)
    remix = await h.original(rec, has_mp4, within=20)
    assert sent(env, "contract", "POST") == [f"/v1/videos/{sora_row.id}/remix"]
    remixed = await row_when(env.bot.videos, video_id(remix), delivered)
    assert (remixed.provider, remixed.model, remixed.parent_id) == (
        "contract",
        "sora-2",
        sora_row.id,
    )

    rec = await h.slash("remix", {"video": veo, "prompt": "now in snow"}, user=alice)
    remix = await h.original(rec, has_mp4, within=20)
    assert sent(env, "openrouter", "POST") == ["/api/v1/videos"]
    remixed = await row_when(env.bot.videos, video_id(remix), delivered)
    assert (remixed.provider, remixed.parent_id) == ("openrouter", veo_row.id)
    # Nothing about either video went to the other provider.
    assert not any(sora_row.id in r for r in env.provider_requests["openrouter"])
    assert not any(veo_row.id in r for r in env.provider_requests["contract"])
    await h.close()

    # Later still: the contract is removed. Its video says so instead of failing silently.
    third = providers_file(tmp_path, "third.toml", openrouter_entry(servers))
    env = await start(start_bot, third)
    h = env.harness
    rec = await h.slash("videos download", {"video": sora, "variant": "video"}, user=alice)
    reply = await ephemeral_answer(h, rec, within=20)
    assert "'contract' that made this video is no longer configured" in str(reply)
    rec = await h.slash("remix", {"video": sora, "prompt": "again"}, user=alice)
    assert (await ephemeral_answer(h, rec))["content"] == (
        "I can't do that: the provider 'contract' that made this video is no longer configured."
    )
    assert all(sora_row.id not in r for r in env.provider_requests["openrouter"])


async def test_routing_a_character_is_asked_about_where_it_was_made(
    start_bot: StartBot, servers: Servers, tmp_path: Path
) -> None:
    first = providers_file(
        tmp_path, "first.toml", contract_entry(servers), openrouter_entry(servers)
    )
    env = await start(start_bot, first)
    h = env.harness
    row = await env.bot.videos.get(video_id(await make(env, "sora-2", "a clip of a fox")))
    assert row is not None
    clip = await env.bot.providers.get("contract").download(row.id, tmp_path / "clip.mp4")
    upload = Upload("fox.mp4", clip.path.read_bytes())
    rec = await h.slash("character create", {"name": "Fox", "video": upload}, user=h.world.alice)
    made = embed(await ephemeral_answer(h, rec, within=20))
    fields = {f["name"]: f["value"] for f in made["fields"]}
    ref, character = fields["Character"], fields["Provider's id"].strip("`")
    assert sent(env, "contract", "POST")[-1] == "/v1/videos/characters"
    await h.close()

    # OpenRouter first now, which has no characters: the fox is still asked of the contract.
    second = providers_file(
        tmp_path, "second.toml", openrouter_entry(servers), contract_entry(servers)
    )
    env = await start(start_bot, second)
    h = env.harness
    rec = await h.slash("character show", {"character": ref}, user=h.world.alice)
    assert embed(await ephemeral_answer(h, rec))["title"] == "Fox"
    assert sent(env, "contract", "GET") == [f"/v1/videos/characters/{character}"]
    assert not any(character in r for r in env.provider_requests["openrouter"])
