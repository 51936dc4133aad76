"""Metric families as plain columns, and their rendering to the Prometheus text format 0.0.4.

Pure: no database, no prometheus_client. Rendering works on whole columns (one string join
per family), which is what makes a 41,352-township exposition cheap.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["gauge", "counter"]


def escape_label_value(value: str) -> str:
    """Backslash, double quote and newline escaped, as the text format requires."""
    if "\\" in value or '"' in value or "\n" in value:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(v: float) -> str:
    """Go's float formatting as Prometheus reads it: integers without a fraction, ±Inf, NaN."""
    if v != v:  # NaN
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == int(v) and abs(v) < 1e15:
        return str(int(v))
    return repr(float(v))


@dataclass
class Family:
    """One metric: a name, its type and help, label names, and columns of label values and values."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)  # label values, one tuple per sample
    values: list[float] = field(default_factory=list)

    def add(self, value: float, *label_values: str) -> None:
        self.rows.append(tuple(label_values))
        self.values.append(value)

    def extend(self, rows: Iterable[tuple[str, ...]], values: Iterable[float]) -> None:
        self.rows.extend(rows)
        self.values.extend(values)

    def __len__(self) -> int:
        return len(self.values)

    def samples(self) -> list[tuple[dict[str, str], float]]:
        return [(dict(zip(self.labels, r, strict=True)), v) for r, v in zip(self.rows, self.values, strict=True)]


def _render_family(f: Family) -> str:
    head = f"# HELP {f.name} {escape_help(f.help)}\n# TYPE {f.name} {f.kind}\n"
    if not f.values:
        return head
    if not f.labels:
        return head + "".join(f"{f.name} {format_value(v)}\n" for v in f.values)
    names = [f'{n}="' for n in f.labels]
    prefix = f.name + "{"
    lines = []
    for row, v in zip(f.rows, f.values, strict=True):
        labels = '",'.join(n + escape_label_value(x) for n, x in zip(names, row, strict=True))
        lines.append(f'{prefix}{labels}"}} {format_value(v)}\n')
    return head + "".join(lines)


def render(families: Sequence[Family]) -> str:
    """The text exposition of every family, in the order given; families without samples keep
    their HELP/TYPE lines so scrapers and dashboards see the metric exists."""
    return "".join(_render_family(f) for f in families)
