"""Listing with after/limit/order, and deleting."""

from __future__ import annotations

from typing import Any

import pytest

from .harness import Sim


async def make_videos(sim: Sim, count: int) -> list[str]:
    """`count` videos, two per clock second, oldest first as listed: creation-time ties go by id."""
    created = []
    for index in range(count):
        created.append((int(sim.clock.now), (await sim.create())["id"]))
        if index % 2:
            sim.clock.advance(1)
    return [video_id for _, video_id in sorted(created)]


async def test_same_second_videos_are_listed_by_id_not_by_arrival(sim: Sim) -> None:
    arrived = [(await sim.create())["id"] for _ in range(12)]
    assert sorted(arrived) != arrived  # else this test would prove nothing

    body = await page(sim, order="asc")

    assert [video["id"] for video in body["data"]] == sorted(arrived)


async def page(sim: Sim, **params: Any) -> dict[str, Any]:
    response = await sim.client.get("videos", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_default_is_newest_first_twenty(sim: Sim) -> None:
    ids = await make_videos(sim, 25)

    body = await page(sim)

    assert body["object"] == "list"
    assert [video["id"] for video in body["data"]] == ids[::-1][:20]
    assert (body["first_id"], body["last_id"], body["has_more"]) == (ids[24], ids[5], True)


@pytest.mark.parametrize("order", ["asc", "desc"])
async def test_pages_walk_every_video_once(sim: Sim, order: str) -> None:
    ids = await make_videos(sim, 7)
    seen: list[str] = []
    after = None
    while True:
        params: dict[str, Any] = {"limit": 3, "order": order}
        if after:
            params["after"] = after
        body = await page(sim, **params)
        seen += [video["id"] for video in body["data"]]
        if not body["has_more"]:
            break
        after = body["last_id"]

    assert seen == (ids if order == "asc" else ids[::-1])


async def test_limit_zero_is_an_empty_page(sim: Sim) -> None:
    await make_videos(sim, 2)

    body = await page(sim, limit=0)

    assert body == {
        "object": "list",
        "data": [],
        "first_id": None,
        "last_id": None,
        "has_more": True,
    }


async def test_empty_list(sim: Sim) -> None:
    body = await page(sim)

    assert (body["data"], body["has_more"], body["first_id"]) == ([], False, None)


async def test_cursor_on_a_deleted_video_still_pages(sim: Sim) -> None:
    ids = await make_videos(sim, 4)
    sim.state.complete(ids[1])
    await sim.client.delete(f"videos/{ids[1]}")

    body = await page(sim, order="asc", after=ids[1])

    assert [video["id"] for video in body["data"]] == ids[2:]


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 101}, "limit"),
        ({"limit": -1}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"order": "sideways"}, "order"),
        ({"after": "video_never"}, "after"),
    ],
)
async def test_bad_list_parameters_are_400(sim: Sim, params: dict[str, Any], param: str) -> None:
    response = await sim.client.get("videos", params=params)

    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


async def test_delete_removes_a_finished_video(sim: Sim) -> None:
    video = await sim.completed()

    response = await sim.client.delete(f"videos/{video['id']}")

    assert response.status_code == 200
    assert response.json() == {"object": "video.deleted", "deleted": True, "id": video["id"]}
    assert (await sim.client.get(f"videos/{video['id']}")).status_code == 404
    assert (await sim.client.delete(f"videos/{video['id']}")).status_code == 404
    assert (await page(sim))["data"] == []


async def test_delete_of_a_failed_video_works(sim: Sim) -> None:
    video = await sim.create()
    sim.state.fail(video["id"])

    assert (await sim.client.delete(f"videos/{video['id']}")).status_code == 200


async def test_delete_of_a_running_video_is_400(sim: Sim) -> None:
    video = await sim.create()

    response = await sim.client.delete(f"videos/{video['id']}")

    assert response.status_code == 400
    assert (await sim.video(video["id"]))["status"] == "queued"
