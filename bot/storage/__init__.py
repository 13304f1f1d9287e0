"""Storage: SQLite or PostgreSQL, numbered migrations, repositories returning typed rows.

Knows nothing of Discord objects or HTTP.
"""

from bot.storage.backends import open_database
from bot.storage.characters import CharacterRepository, CharacterRow
from bot.storage.contests import ContestRepository, ContestRow, EntryRow, Standing, Vote
from bot.storage.db import Database, IntegrityError
from bot.storage.guilds import NO_LIMIT, GuildRepository, GuildSettings
from bot.storage.leases import LeaseRepository, ReplyRepository
from bot.storage.ledger import Admission, Entry, LedgerRepository, Month, NewJob
from bot.storage.migrate import DatabaseTooNewError, MigrationError
from bot.storage.sqlite import SqliteDatabase
from bot.storage.videos import VideoKind, VideoRepository, VideoRow

__all__ = [
    "NO_LIMIT",
    "Admission",
    "CharacterRepository",
    "CharacterRow",
    "ContestRepository",
    "ContestRow",
    "Database",
    "DatabaseTooNewError",
    "Entry",
    "EntryRow",
    "GuildRepository",
    "GuildSettings",
    "IntegrityError",
    "LeaseRepository",
    "LedgerRepository",
    "MigrationError",
    "Month",
    "NewJob",
    "ReplyRepository",
    "SqliteDatabase",
    "Standing",
    "VideoKind",
    "VideoRepository",
    "VideoRow",
    "Vote",
    "open_database",
]
