from __future__ import annotations

import pytest

from bot.spending.money import micros, parse_usd, to_usd, usd


@pytest.mark.parametrize(
    ("amount", "expected"), [(0.1, 100_000), (0.3, 300_000), (0.07, 70_000), (12.5, 12_500_000)]
)
def test_a_float_price_becomes_exact_micros(amount: float, expected: int) -> None:
    assert micros(amount) == expected
    assert to_usd(expected) == amount


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "$0.00"),
        (400_000, "$0.40"),
        (12_000_000, "$12.00"),
        (1_234_567_890, "$1,234.56789"),
        (2_500, "$0.0025"),
    ],
)
def test_amounts_read_as_dollars(value: int, text: str) -> None:
    assert usd(value) == text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("25", 25_000_000),
        ("12.50", 12_500_000),
        ("$7", 7_000_000),
        ("2.50", 2_500_000),
        ("999999999999999", 999_999_999_999_999_000_000),
        ("0.000001", 1),
        ("0", 0),
    ],
)
def test_typed_amounts(text: str, value: int) -> None:
    assert parse_usd(text) == value


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "-1",
        "0.0000001",
        "nan",
        "inf",
        "1e400x",
        # Exponents: Decimal reads them, and multiplying overflows.
        "1e999999",
        "1E5",
        # Commas: $2.50 or $250, depending on the reader.
        "2,50",
        "1,000",
        # Digits that are not ASCII pass str.isdigit().
        "²",
        "٣",
        # Longer than any budget: refused before it is read.
        "1" * 16,
        "9" * 5000,
    ],
)
def test_not_amounts(text: str) -> None:
    assert parse_usd(text) is None
