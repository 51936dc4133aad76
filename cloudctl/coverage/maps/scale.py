"""The colour scale of the coverage maps: five equal classes of the ratio (ColorBrewer YlGnBu,
colour-blind safe and readable in greyscale), plus the fills for "no figures" and "no data"."""

from __future__ import annotations

from dataclasses import dataclass

CLASS_COLOURS = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
BREAKS = (0.2, 0.4, 0.6, 0.8)  # upper bounds (exclusive) of the first four classes
NO_FIGURES = "#d9d9d9"  # a division with no divisions of the mapped level under it
SEA = "#eef4f9"
NEIGHBOUR = "#e4e4e4"


@dataclass(frozen=True)
class ColourClass:
    low: float
    high: float
    colour: str

    @property
    def label(self) -> str:
        return f"{self.low * 100:.0f}–{self.high * 100:.0f} %"


def classes() -> list[ColourClass]:
    bounds = (0.0, *BREAKS, 1.0)
    return [ColourClass(bounds[i], bounds[i + 1], colour) for i, colour in enumerate(CLASS_COLOURS)]


def class_index(ratio: float) -> int:
    """0..4: [0, 20 %), [20, 40 %), [40, 60 %), [60, 80 %), [80, 100 %]."""
    return sum(ratio >= b for b in BREAKS)


def fill_for(covered: int, total: int) -> str:
    return NO_FIGURES if total <= 0 else CLASS_COLOURS[class_index(covered / total)]


def text_colour(fill: str) -> str:
    """Dark text on the light classes, white on the two darkest."""
    return "#ffffff" if fill in CLASS_COLOURS[3:] else "#1b1b1b"
