"""Migration to several providers: the rows made before belong to the one configured then."""

from __future__ import annotations

from pathlib import Path

from bot.storage import CharacterRepository, SqliteDatabase, VideoRepository
from bot.storage.migrate import load_migrations
from bot.videoapi.providers import DEFAULT_PROVIDER

from .helpers import OWNER, add_video
from .test_migrations import copy_migrations


async def test_routing_rows_from_before_belong_to_the_default_provider(
    db_path: Path, tmp_path: Path
) -> None:
    names = [migration.name for migration in load_migrations("sqlite")]
    before = next(i for i, name in enumerate(names) if name.endswith("_providers.sql"))
    migrations = copy_migrations(tmp_path, before)
    async with await SqliteDatabase.open(db_path, migrations=migrations) as db:
        await db.execute(
            "INSERT INTO videos (id, owner_id, channel_id, kind, prompt, model, size, seconds,"
            " status, created_at, updated_at) VALUES ('video_old', ?, 1, 'create', 'a cat',"
            " 'sora-2', '720x1280', '4', 'completed', 1700000000, 0)",
            (OWNER,),
        )
        await db.execute(
            "INSERT INTO characters (id, owner_id, name, created_at)"
            " VALUES ('char_old', ?, 'Mossy', 1700000000)",
            (OWNER,),
        )
    async with await SqliteDatabase.open(db_path) as db:
        videos = VideoRepository(db)
        old = await videos.get("video_old")
        assert old is not None
        assert old.provider == DEFAULT_PROVIDER
        new = await add_video(videos, "video_new")
        assert new.provider == DEFAULT_PROVIDER
        assert await db.fetch_all("SELECT guild_id, model FROM guild_models") == []
        character = await CharacterRepository(db).visible("char_old", OWNER)
        assert character is not None
        assert character.provider == DEFAULT_PROVIDER
