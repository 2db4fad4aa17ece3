"""Which database the demo may fill, and the shop files a demo's database lends to later commands."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from chatcast.cli.demo import SAMPLE_SHOP
from chatcast.demo_database import DatabaseTaken, choose, mark, with_demo_files
from chatcast.settings import Settings
from storage import db, demo_mark

DEFAULT = Path("data/chatcast.sqlite3")


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def _demo(path: Path, *, finished: bool) -> None:
    async with db.database(f"sqlite://{path}"):
        await demo_mark.put(mark(SAMPLE_SHOP), finished=finished)


@pytest.mark.slow
def test_a_demo_database_lends_the_sample_shop_files_where_yours_are_unset_and_absent(isolated: Path) -> None:
    assert with_demo_files(settings()) == settings()  # no database yet
    asyncio.run(db.upgrade(f"sqlite://{DEFAULT}"))
    assert with_demo_files(settings()) == settings()  # a database, not the demo's
    asyncio.run(_demo(DEFAULT, finished=True))
    lent = with_demo_files(settings())
    assert (lent.segments_file, lent.knowledge_file) == (SAMPLE_SHOP / "segments.yaml", SAMPLE_SHOP / "knowledge.yaml")

    # yours win: a file of that name here, or a setting, even one that names a file not there (its error stays)
    (isolated / "segments.yaml").write_text("personas: []\n")
    assert with_demo_files(settings()).segments_file == Path("segments.yaml")
    chosen = settings(knowledge_file=Path("policies.yaml"))
    assert with_demo_files(chosen).knowledge_file == Path("policies.yaml")
    # another database configured: not the demo's, nothing lent
    assert with_demo_files(settings(database_url="sqlite://data/other.sqlite3")).knowledge_file == Path(
        "knowledge.yaml"
    )


def test_the_demo_may_fill_a_missing_or_empty_database_or_its_own(isolated: Path) -> None:
    assert choose(settings(), None).default
    asyncio.run(db.upgrade(f"sqlite://{DEFAULT}"))  # what any first command leaves: tables, no rows
    assert choose(settings(), None).path.resolve() == DEFAULT.resolve()
    asyncio.run(_demo(DEFAULT, finished=False))  # a demo that broke off while loading
    assert choose(settings(), None).path.resolve() == DEFAULT.resolve()
    other = choose(settings(), Path("data/demo.sqlite3"))
    assert not other.default and other.command("campaign status x") == (
        "CHATCAST_DATABASE_URL=sqlite://data/demo.sqlite3 chatcast campaign status x"
    )
    spaced = choose(settings(), Path("my data/demo.sqlite3"))
    assert spaced.command("db status") == "CHATCAST_DATABASE_URL='sqlite://my data/demo.sqlite3' chatcast db status"
    with pytest.raises(DatabaseTaken, match="is not a SQLite file"):
        choose(settings(database_url="sqlite://:memory:"), None)
