from __future__ import annotations

import io

from PIL import Image

from bot.spending.chart import BACKGROUND, BAR, HEIGHT, MARGIN_BOTTOM, TODAY, WIDTH, spend_chart


def days(values: list[int]) -> dict[str, int]:
    return {f"2026-12-{n:02d}": value for n, value in enumerate(values, start=1)}


def test_a_bar_per_day_and_today_stands_out() -> None:
    spend = days([0] * 31)
    spend["2026-12-05"] = 2_000_000
    spend["2026-12-14"] = 1_000_000
    png = spend_chart("Spend per day, December 2026", spend, today="2026-12-14")
    image = Image.open(io.BytesIO(png)).convert("RGB")
    assert image.size == (WIDTH, HEIGHT)
    base = HEIGHT - MARGIN_BOTTOM - 2
    colours = [image.getpixel((x, base)) for x in range(WIDTH)]
    assert BAR in colours
    assert TODAY in colours

    # Day 5's bar is twice as tall as day 14's.
    def height(colour: tuple[int, int, int]) -> int:
        x = colours.index(colour) + 2
        return sum(1 for y in range(HEIGHT) if image.getpixel((x, y)) == colour)

    assert abs(height(BAR) - 2 * height(TODAY)) <= 2


def test_an_empty_month_is_still_a_picture() -> None:
    image = Image.open(io.BytesIO(spend_chart("Nothing yet", days([0] * 30))))
    assert image.format == "PNG"
    assert image.convert("RGB").getpixel((WIDTH - 5, 5)) == BACKGROUND
