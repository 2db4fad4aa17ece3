"""What customers said as features and in segment rules, from scripted feedback, messages and complaints, refreshed
by SQL on SQLite and PostgreSQL (full and incremental)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from segments.audience import compiler_for, members_sql
from segments.definitions import DefinitionsError, parse
from segments.refresh import refresh
from storage import complaints, conversations, db, identities
from storage.models import Customer, CustomerFeatures
from storage.sql import fetch

NOW = datetime(2027, 3, 10, 12, tzinfo=UTC)
DEFS = parse(
    """
personas:
  - {id: everyone, description: d, tone: t}
segments:
  - {id: gloomy, description: d, when: {sentiment_30d: {lt: -0.1}}}
  - {id: cheerful, description: d, when: {sentiment_30d: {gte: 0.5}}}
  - {id: complaining, description: d, when: {open_complaint: true}}
  - {id: calm, description: d, when: {not: {open_complaint: true}}}
  - {id: trail_haters, description: d, when: {negative_about: RUN-TR1}}
  - {id: any_haters, description: d, when: {negative_about: {contains_any: [RUN-TR1, APP-JKT]}}}
  - {id: unheard, description: d, when: {sentiment_30d: {exists: false}}}
""",
    "segments.yaml",
)


async def said(customer: Customer, text: str, score: float, at: datetime, *, skus: list[str] | None = None) -> None:
    """The customer wrote ``text`` (rated ``score``); with ``skus`` it was also kept as feedback about them."""
    message = await identities.add_chat_message(customer.id, channel="telegram", role="customer", text=text, at=at)
    await conversations.set_sentiment(message.id, score)
    if skus is not None:
        await conversations.add_feedback(customer.id, text=text, sentiment=score, themes=[], at=at, products=skus)


async def members(segment: str) -> set[str]:
    compiler = compiler_for(DEFS, db.dialect(), NOW)
    sql = f"SELECT c.external_id FROM customer c WHERE c.id IN ({members_sql(DEFS, segment, compiler)})"
    return {str(r[0]) for r in await fetch(sql, compiler.params.values)}


async def features(external_id: str) -> CustomerFeatures:
    return await CustomerFeatures.get(customer__external_id=external_id)


async def test_sentiment_complaints_and_negative_products_become_features_and_rules(database: str) -> None:
    ann, ben, cat, dan = [await Customer.create(external_id=n, name=n) for n in ("ann", "ben", "cat", "dan")]
    # Ann: negative feedback about the trail shoe (kept from her message: counted once), a friendlier message
    # since, and an old outburst outside the 30 days
    await said(ann, "The sole came off, poor quality", -0.55, NOW - timedelta(days=2), skus=["RUN-TR1"])
    await said(ann, "ok the replacement arrived", 0.2, NOW - timedelta(days=1))
    await said(ann, "worst shop ever", -0.9, NOW - timedelta(days=40))
    # Ben: an open complaint and nothing said in the window; Cat: praise, and a complaint that was resolved
    await complaints.open_complaint(ben.id, at=NOW - timedelta(days=3), source="message", text="Where is my refund?!")
    await said(cat, "Love the jacket", 0.8, NOW - timedelta(days=5), skus=["APP-JKT"])
    await complaints.open_complaint(cat.id, at=NOW - timedelta(days=9), source="message", text="late")
    await complaints.resolve(cat.id, at=NOW - timedelta(days=8), how="staff")
    # Dan: an old negative review of the jacket: negative_about has no window
    await said(dan, "The jacket zip broke", -0.6, NOW - timedelta(days=200), skus=["APP-JKT"])

    await refresh(DEFS, dialect=db.dialect(), as_of=NOW)
    a = await features("ann")
    assert a.sentiment_30d == pytest.approx((-0.55 + 0.2) / 2) and a.negative_skus == ["RUN-TR1"]
    assert not a.open_complaint
    b = await features("ben")
    assert b.open_complaint and b.sentiment_30d is None and b.negative_skus == []
    c = await features("cat")
    assert not c.open_complaint and c.sentiment_30d == pytest.approx(0.8) and c.negative_skus == []
    assert (await features("dan")).negative_skus == ["APP-JKT"]

    assert await members("gloomy") == {"ann"}
    assert await members("cheerful") == {"cat"}
    assert await members("complaining") == {"ben"}
    assert await members("calm") == {"ann", "cat", "dan"}
    assert await members("trail_haters") == {"ann"}
    assert await members("any_haters") == {"ann", "dan"}
    assert await members("unheard") == {"ben", "dan"}

    # later: Dan complains (an event), Ann leaves more feedback (a new row): an incremental refresh sees both
    await complaints.open_complaint(dan.id, at=NOW, source="message", text="still broken")
    await conversations.add_feedback(ann.id, text="fine now", sentiment=0.9, themes=[], at=NOW - timedelta(hours=1))
    report = await refresh(DEFS, dialect=db.dialect(), as_of=NOW, incremental=True)
    assert report.incremental and report.customers == 2
    assert (await features("dan")).open_complaint
    assert (await features("ann")).sentiment_30d == pytest.approx((-0.55 + 0.2 + 0.9) / 3)
    assert await members("complaining") == {"ben", "dan"} and await members("gloomy") == set()


async def test_an_incremental_refresh_sees_words_leave_and_enter_the_window(database: str) -> None:
    eve, fay, gus, hal = [await Customer.create(external_id=n, name=n) for n in ("eve", "fay", "gus", "hal")]
    await said(eve, "this is bad", -0.5, NOW - timedelta(days=25))  # a rated message
    await said(fay, "the zip broke", -0.6, NOW - timedelta(days=20), skus=["APP-JKT"])  # feedback
    await said(hal, "still bad", -0.5, NOW - timedelta(days=2))  # inside both windows: untouched
    await refresh(DEFS, dialect=db.dialect(), as_of=NOW)
    assert await members("gloomy") == {"eve", "fay", "hal"}
    # ten days on, nothing new but Gus's rated message (no feedback, no event); Eve's and Fay's words aged out
    later = NOW + timedelta(days=10)
    await said(gus, "meh, slow delivery", -0.4, NOW + timedelta(days=5))
    report = await refresh(DEFS, dialect=db.dialect(), as_of=later, incremental=True)
    assert report.incremental and report.customers == 3
    assert (await features("eve")).sentiment_30d is None and (await features("fay")).sentiment_30d is None
    assert (await features("gus")).sentiment_30d == pytest.approx(-0.4)
    assert await members("gloomy") == {"gus", "hal"}


@pytest.mark.parametrize(
    ("when", "message"),
    [
        ("open_complaint: maybe", "open_complaint: takes true or false, got 'maybe'"),
        ("open_complaint: {gt: 1}", "operator 'gt' for a bool field"),
        ("sentiment_30d: {lt: negative}", "sentiment_30d: lt takes a number, got 'negative'"),
        ("sentiment_30d: {lt: -0.2, within: 7 days}", "sentiment_30d takes no window"),
        ("negative_about: {gte: 2}", "operator 'gte' for a list field"),
        ("negative_about: {contains_any: RUN-TR1}", "contains_any takes a list of names"),
        ("negative_skus: RUN-TR1", "unknown field 'negative_skus'"),
    ],
)
def test_a_bad_rule_on_the_new_fields_names_file_line_and_field(when: str, message: str) -> None:
    head = "personas:\n  - {id: a, description: d, tone: t}\nsegments:\n  - id: s\n    description: d\n"
    text = f"{head}    when:\n      {when}\n"
    with pytest.raises(DefinitionsError) as caught:
        parse(text, "segments.yaml")
    (problem,) = [str(p) for p in caught.value.problems]
    assert problem.startswith("segments.yaml:7: segments[s].when") and message in problem, problem
