"""The reviews import and review summaries on both databases: column maps, refused rows, idempotency, the
reference Amazon review sentences mapped onto a few products, and erasure; product attributes on import."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from assistant.reviews import Annotator, summaries
from storage import privacy
from storage.importers import ImportAborted, SourceError, import_file, import_reviews
from storage.models import Customer, Feedback, Product, Review
from tests.fakes.environment import reference_file

ANNOTATE = Annotator()
REVIEWS = """
product_handle,body,stars,customer,date,id
RUN-1,"So comfortable, fits perfectly on long runs",5,C1,2026-05-01,r1
RUN-1,"Comfortable and light, the quality is great",4,,2026-05-02,r2
RUN-1,"The sole fell apart after two weeks, poor quality",1,C404,2026-05-03,r3
RUN-1,Runs small: the size is too small,2,,,r4
NOPE-9,Lovely,5,,,r5
SOX-2,,3,,,r6
SOX-2,Soft and warm,9,,,r7
"""
MAP = {"sku": "product_handle", "text": "body", "rating": "stars", "customer_id": "customer"}
MAP |= {"reviewed_at": "date", "review_id": "id"}


async def catalog() -> None:
    await Product.create(sku="RUN-1", name="Road Runner", category="running-shoes", price=120)
    await Product.create(sku="SOX-2", name="Crew Sock", category="socks", price=12)
    await Customer.create(external_id="C1", name="Mia")


def write(path: Path, text: str) -> Path:
    path.write_text(text.lstrip("\n"), encoding="utf-8")
    return path


async def test_reviews_import_with_a_column_map_refuses_bad_rows_and_repeats_safely(
    database: str, tmp_path: Path
) -> None:
    await catalog()
    path = write(tmp_path / "judge.csv", REVIEWS)
    report = await import_reviews(path, annotate=ANNOTATE, columns=MAP)
    assert (report.rows, report.imported, report.bad, report.created) == (7, 4, 3, {"review": 4})
    errors = [str(e) for e in report.errors]
    assert errors[0] == "judge.csv row 5 (line 6), column 'product_handle': unknown product 'NOPE-9'"
    assert "row 6 (line 7), column 'text': required value is missing" in errors[1]
    assert "row 7 (line 8), column 'rating': Input should be less than or equal to 5" in errors[2]
    first = await Review.get(text__startswith="So comfortable").prefetch_related("customer")
    assert first.customer is not None and first.customer.external_id == "C1" and first.rating == 5
    assert first.sentiment > 0.3 and first.themes == ["size & fit", "comfort"]
    unknown_customer = await Review.get(text__startswith="The sole")
    assert unknown_customer.customer_id is None and unknown_customer.sentiment < 0  # kept, anonymous
    again = await import_reviews(path, annotate=ANNOTATE, columns=MAP)
    assert again.imported == 4 and again.created == {"review": 0}


async def test_two_platforms_numbering_reviews_alike_keep_both_and_no_review_moves(
    database: str, tmp_path: Path
) -> None:
    await catalog()
    await import_reviews(write(tmp_path / "a.csv", "sku,text,review_id\nRUN-1,Great shoe,1\n"), annotate=ANNOTATE)
    other = await import_reviews(write(tmp_path / "b.csv", "sku,text,review_id\nSOX-2,Warm,1\n"), annotate=ANNOTATE)
    assert other.created == {"review": 1}
    found = await Review.all().order_by("id").values_list("product__sku", "text")
    assert found == [("RUN-1", "Great shoe"), ("SOX-2", "Warm")]
    again = await import_reviews(
        write(tmp_path / "c.csv", "sku,text,review_id\nRUN-1,Great shoe!,1\n"), annotate=ANNOTATE
    )
    assert again.created == {"review": 0} and await Review.filter(product__sku="RUN-1").count() == 1
    assert (await Review.get(product__sku="RUN-1")).text == "Great shoe!"  # the same review, edited


async def test_reviews_without_ids_are_keyed_by_their_content(database: str, tmp_path: Path) -> None:
    await catalog()
    lines = '{"sku": "SOX-2", "text": "Soft", "rating": 5}\n{"sku": "SOX-2", "text": "Thin"}\n'
    path = write(tmp_path / "r.jsonl", lines)
    assert (await import_reviews(path, annotate=ANNOTATE)).created == {"review": 2}
    assert (await import_reviews(path, annotate=ANNOTATE)).created == {"review": 0}
    with pytest.raises(SourceError, match="missing required column 'body' \\(mapped from 'text'\\)"):
        wrong = write(tmp_path / "x.csv", "product_handle,text\nSOX-2,ok\n")
        await import_reviews(wrong, annotate=ANNOTATE, columns=MAP)
    with pytest.raises(SourceError, match="unknown review field 'stars'"):
        await import_reviews(path, annotate=ANNOTATE, columns={"stars": "rating"})
    with pytest.raises(ImportAborted, match="unknown product 'NOPE'"):
        await import_reviews(write(tmp_path / "s.csv", "sku,text\nNOPE,ok\n"), annotate=ANNOTATE, strict=True)


async def test_summaries_count_reviews_and_feedback_with_praise_and_complaints(database: str, tmp_path: Path) -> None:
    await catalog()
    await import_reviews(write(tmp_path / "judge.csv", REVIEWS), annotate=ANNOTATE, columns=MAP)
    mia = await Customer.get(external_id="C1")
    text = "Really comfortable shoes, great quality"
    score, themes = ANNOTATE(text)
    at = mia.created_at
    await Feedback.create(customer=mia, products=["RUN-1"], text=text, sentiment=score, themes=themes, at=at)
    [run] = await summaries(["RUN-1"])
    assert (run.sku, run.reviews, run.feedback, run.rating) == ("RUN-1", 4, 1, 3.0)
    assert run.positive == 3 and run.negative == 2
    mentioned = {t.theme: (t.mentions, t.praise, t.complaints) for t in run.themes}
    assert mentioned["comfort"] == (3, 3, 0) and mentioned["quality & durability"] == (3, 2, 1)
    assert run.praised == ["comfort", "quality & durability"]
    assert mentioned["size & fit"] == (2, 1, 1) and run.complaints == []  # one each way: neither


async def test_the_reference_review_sentences_as_reviews_of_three_products(database: str, tmp_path: Path) -> None:
    source = reference_file("data", "amazon_review_snippets_vader.csv")
    skus = ["ELEC-DVD", "ELEC-CAM", "ELEC-MP3"]
    for sku in skus:
        await Product.create(sku=sku, name=sku.title(), category="electronics", price=99)
    # the file is read from ../shared; the mapped copy (a product per review, stars from the raters' mean) is ours
    mapped = tmp_path / "mapped.csv"
    with source.open(encoding="utf-8") as f, mapped.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["snippet_id", "product", "stars", "text"])
        for row in csv.DictReader(f):
            stars = min(5, max(1, round(3 + float(row["mean_sentiment"]) / 2)))
            writer.writerow([row["snippet_id"], skus[int(row["review_id"]) % 3], stars, row["text"]])
    columns = {"review_id": "snippet_id", "sku": "product", "rating": "stars"}
    report = await import_reviews(mapped, annotate=ANNOTATE, columns=columns)
    assert report.rows == 3708 and report.imported == 3708 and report.bad == 0
    found = {s.sku: s for s in await summaries()}
    assert sorted(found) == sorted(skus) and sum(s.reviews for s in found.values()) == 3708
    for summary in found.values():
        assert summary.reviews > 1000 and summary.rating is not None and 1 <= summary.rating <= 5
        assert summary.positive > summary.negative > 200 and 0.1 < summary.mean_sentiment < 0.3
        assert summary.praised[0] == "price & value" and "quality & durability" in summary.praised
        assert summary.themes[0].mentions >= 50  # recurring themes, heard dozens of times for each product
    # the returns people write about are complaints (on two of the three products' share of the sentences)
    assert found["ELEC-DVD"].complaints == found["ELEC-MP3"].complaints == ["returns & refunds"]
    # the raters' view and ours agree in direction: the lexicon's sentiment of the texts rated 5 is positive
    rows = await Review.filter(rating=5).values_list("sentiment", flat=True)
    assert sum(rows) / len(rows) > 0.4


async def test_products_carry_attributes_from_json_or_attr_columns(database: str, tmp_path: Path) -> None:
    text = 'sku,name,price,attributes,attr_colour\nAPP-1,Tee,20,"{""material"": ""cotton"", ""weight_g"": 180}",navy\n'
    report = await import_file("products", write(tmp_path / "p.csv", text))
    assert report.bad == 0
    tee = await Product.get(sku="APP-1")
    assert tee.attributes == {"material": "cotton", "weight_g": 180, "colour": "navy"}
    bad = await import_file("products", write(tmp_path / "b.csv", 'sku,name,price,attributes\nAPP-2,X,1,"{oops"\n'))
    assert "column 'attributes': is not a JSON object (check the quotes)" in str(bad.errors[0])


async def test_a_reviewers_text_goes_with_their_erasure(database: str, tmp_path: Path) -> None:
    await catalog()
    await import_reviews(write(tmp_path / "judge.csv", REVIEWS), annotate=ANNOTATE, columns=MAP)
    mia = await Customer.get(external_id="C1")
    hers = await Review.get(customer=mia)
    assert [r["text"] for r in (await privacy.export(mia))["reviews"]] == [
        "So comfortable, fits perfectly on long runs"
    ]
    assert (await privacy.erase(mia))["reviews"] == 1
    assert (await Review.get(id=hers.id)).text == ""
