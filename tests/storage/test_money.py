"""Exchange rates and the one way amounts in several currencies add up: into the shop's currency with a rate for
each, or not at all (the currencies that lack one named)."""

from __future__ import annotations

import pytest

from storage.money import RateRefused, checked, convert, rates, read_rates, remove_rate, set_rates


def test_amounts_convert_into_the_shop_currency_or_name_what_lacks_a_rate() -> None:
    assert convert({}, {}, "USD") == (0, [])
    assert convert({"USD": 10.5}, {}, "USD") == (10.5, [])
    assert convert({"USD": 100.0, "EUR": 50.0, "JPY": 25000.0}, {"EUR": 1.08, "JPY": 0.0067}, "USD") == (321.5, [])
    assert convert({"USD": 100.0, "EUR": 50.0, "JPY": 25000.0, "GBP": 1.0}, {"EUR": 1.08}, "USD") == (
        None,
        ["GBP", "JPY"],
    )
    assert convert({"USD": 100.0, "JPY": 0.0}, {}, "USD") == (100.0, [])  # nothing in yen: no rate needed
    assert convert({"EUR": 10.0}, {"USD": 0.9}, "EUR") == (10.0, [])  # the shop's own is 1, whatever the table


def test_a_rate_is_a_positive_number_for_a_currency_other_than_the_shops() -> None:
    assert checked("eur", "1.08", "USD") == ("EUR", 1.08)
    for currency, rate, message in (
        ("EURO", 1.0, "not an ISO 4217 currency code"),
        ("USD", 1.0, "USD is the shop's currency"),
        ("EUR", "abc", "'abc' is not a number"),
        ("EUR", 0, "must be a positive number"),
        ("EUR", "nan", "must be a positive number"),
        ("EUR", "-1", "must be a positive number"),
    ):
        with pytest.raises(RateRefused, match=message):
            checked(currency, rate, "USD")


def test_a_rates_file_is_read_whole_or_refused_at_its_first_bad_line() -> None:
    assert read_rates("\ufeffcurrency,rate\nEUR,1.08\njpy, 0.0067 \n", "USD") == {"EUR": 1.08, "JPY": 0.0067}
    assert read_rates("Currency,per_unit_in_shop_currency\nEUR,1.08\n", "USD") == {"EUR": 1.08}
    with pytest.raises(RateRefused, match=r"line 1 \(header\): the columns are currency and rate"):
        read_rates("code,value\nEUR,1\n", "USD")
    with pytest.raises(RateRefused, match="line 3: 'EURO' is not an ISO 4217"):
        read_rates("currency,rate\nGBP,1.27\nEURO,1.08\n", "USD")
    with pytest.raises(RateRefused, match="line 3: EUR has a rate on an earlier line already"):
        read_rates("currency,rate\nEUR,1.08\neur,1.09\n", "USD")


async def test_rates_are_stored_replaced_and_removed(database: str) -> None:
    assert await rates() == {}
    assert await set_rates({"eur": 1.08, "GBP": 1.27}, "USD") == {"EUR": 1.08, "GBP": 1.27}
    await set_rates({"EUR": 1.1}, "USD")
    assert await rates() == {"EUR": 1.1, "GBP": 1.27}
    with pytest.raises(RateRefused):
        await set_rates({"CHF": 1.1, "USD": 1.0}, "USD")  # all or none
    assert await rates() == {"EUR": 1.1, "GBP": 1.27}
    assert await remove_rate("gbp") and not await remove_rate("GBP")
    assert await rates() == {"EUR": 1.1}
