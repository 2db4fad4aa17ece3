"""Currency codes: an order, a product or an exchange rate names its money by an ISO 4217 code, upper case.

A code that is no currency (``EURO``, ``XYZ``, a typo) is refused where it comes in, naming the field, rather than
stored and later summed with the wrong money. Lower case is read as upper (``eur`` is EUR).
"""

from __future__ import annotations

from storage.errors import ChatcastError

# ISO 4217's currencies in circulation (funds, precious metals and test codes left out: no shop sells in them)
_CURRENT = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF
    CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL
    HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD
    MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG
    QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
    TWD TZS UAH UGX USD UYU UZS VED VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
"""
CURRENT = frozenset(_CURRENT.split())
# withdrawn since 2000, which a shop's order history may still hold (Croatia's kuna until 2023, the Baltic ones)
_WITHDRAWN = "ANG BYR CUC CYP EEK HRK LTL LVL MRO MTL SIT SKK SLL STD VEF ZMK ZWL"
WITHDRAWN = frozenset(_WITHDRAWN.split())
CODES = CURRENT | WITHDRAWN


class UnknownCurrency(ChatcastError, ValueError):
    """Not an ISO 4217 currency code."""


def currency_code(value: str) -> str:
    """``value`` as an ISO 4217 code (upper case, spaces stripped); raises :class:`UnknownCurrency` otherwise."""
    code = value.strip().upper()
    if code not in CODES:
        raise UnknownCurrency(f"{value!r} is not an ISO 4217 currency code (such as EUR, USD, GBP, JPY)")
    return code
