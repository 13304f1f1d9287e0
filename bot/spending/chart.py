"""A month's spend per day as a bar chart PNG, drawn with Pillow.

Pillow rather than matplotlib: it is already a dependency (reference images, the simulator's
media), a bar chart is a few rectangles and labels, and matplotlib would add tens of MB (and
NumPy) to the image for one picture. Rendering is deterministic, so tests can read pixels.
"""

from __future__ import annotations

import io
from typing import Final

from PIL import Image, ImageDraw, ImageFont

from bot.spending.money import usd

WIDTH: Final = 900
HEIGHT: Final = 360
MARGIN_LEFT: Final = 80
MARGIN_RIGHT: Final = 20
MARGIN_TOP: Final = 50
MARGIN_BOTTOM: Final = 40
BACKGROUND: Final = (43, 45, 49)  # Discord's dark theme, so the picture sits in it
GRID: Final = (70, 73, 79)
TEXT: Final = (219, 222, 225)
BAR: Final = (88, 101, 242)  # blurple
TODAY: Final = (87, 242, 135)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _nice_ceiling(micros: int) -> int:
    """The axis top: 1, 2 or 5 times a power of ten, at least the highest bar."""
    if micros <= 0:
        return 1_000_000
    step = 10_000  # one cent
    while True:
        for factor in (1, 2, 5):
            if step * factor >= micros:
                return step * factor
        step *= 10


def spend_chart(title: str, by_day: dict[str, int], today: str | None = None) -> bytes:
    """`by_day` maps "YYYY-MM-DD" to micro-dollars, in order; returns a PNG."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    draw.text((MARGIN_LEFT, 14), title, fill=TEXT, font=_font(18))
    top = _nice_ceiling(max(by_day.values(), default=0))
    plot_w = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    plot_h = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    base = MARGIN_TOP + plot_h
    small = _font(12)
    for tick in range(5):
        value = top * tick // 4
        y = base - plot_h * tick / 4
        draw.line([(MARGIN_LEFT, y), (WIDTH - MARGIN_RIGHT, y)], fill=GRID, width=1)
        draw.text((MARGIN_LEFT - 8, y), usd(value), fill=TEXT, font=small, anchor="rm")
    slot = plot_w / max(1, len(by_day))
    for index, (day, micros) in enumerate(by_day.items()):
        left = MARGIN_LEFT + index * slot + slot * 0.15
        right = MARGIN_LEFT + (index + 1) * slot - slot * 0.15
        height = plot_h * micros / top
        if micros > 0:
            colour = TODAY if day == today else BAR
            draw.rectangle([(left, base - max(1.0, height)), (right, base)], fill=colour)
        day_number = int(day[-2:])
        if day_number == 1 or day_number % 5 == 0:
            draw.text(
                ((left + right) / 2, base + 6), str(day_number), fill=TEXT, font=small, anchor="mt"
            )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
