"""Money as integer micro-dollars (1 USD = 1,000,000).

Integers, not floats: sums in SQL are exact (SQLite INTEGER, PostgreSQL BIGINT), so a budget
of exactly $4.00 admits exactly ten $0.40 jobs however the additions fall, and there is no
rounding to argue about at the limit. Decimal is used only to read what people type.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final

MICROS_PER_USD: Final = 1_000_000
_AMOUNT: Final = re.compile(r"[0-9]{1,15}(\.[0-9]*)?|\.[0-9]+", re.ASCII)


def micros(usd: float) -> int:
    """A float amount in USD (a profile's price, a stored cost) in micro-dollars."""
    # Through str: 0.1 becomes exactly 100000, not 100000.00000000001.
    return int((Decimal(str(usd)) * MICROS_PER_USD).to_integral_value())


def to_usd(micros: int) -> float:
    return micros / MICROS_PER_USD


def usd(micros: int) -> str:
    """ "$0.40", "$12.00"; amounts under a cent keep their digits: "$0.0025"."""
    amount = Decimal(micros) / MICROS_PER_USD
    if micros % 10_000 == 0:
        return f"${amount:,.2f}"
    return f"${amount.normalize():,f}"


def parse_usd(text: str) -> int | None:
    """An amount like "25", "12.50" or "$7" in micro-dollars; None when it is not one.

    Digits and one dot only: no commas ("2,50" is $2.50 or $250 depending on the reader), no
    exponents ("1e999999" would overflow), at most 15 digits before the dot.
    """
    cleaned = text.strip().removeprefix("$").strip()
    if _AMOUNT.fullmatch(cleaned) is None:
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    exact = amount * MICROS_PER_USD
    if exact != exact.to_integral_value():
        return None
    return int(exact)
