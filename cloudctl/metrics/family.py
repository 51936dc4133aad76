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


_SPECIAL = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}


def format_value(v: float) -> str:
    """Go-readable number text: ints as digits, floats by repr (shortest round-trip), ±Inf, NaN."""
    r = repr(v)
    return _SPECIAL.get(r, r)


def format_values(values: Sequence[float]) -> list[str]:
    """format_value over a whole column, at C speed when every value is finite (the usual case)."""
    texts = list(map(repr, values))
    if all(map(math.isfinite, values)):
        return texts
    return [_SPECIAL.get(t, t) for t in texts]


def _needs_escape(column: tuple[str, ...]) -> bool:
    joined = "".join(column)
    return "\\" in joined or '"' in joined or "\n" in joined


@dataclass
class Family:
    """One metric: a name, its type and help, label names, and columns of label values and values."""

    name: str
    kind: Kind
    help: str
    labels: tuple[str, ...] = ()
    rows: list[tuple[str, ...]] = field(default_factory=list)  # label values, one tuple per sample
    values: list[float] = field(default_factory=list)
    label_text: list[str] | None = None  # label_strings(labels, rows), when shared with other families

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


def label_strings(labels: Sequence[str], rows: Sequence[tuple[str, ...]]) -> list[str]:
    """The `{name="value",...}` part of each sample, escaped; compute once, share between families."""
    if not rows:
        return []
    columns = list(zip(*rows, strict=True))
    columns = [tuple(map(escape_label_value, c)) if _needs_escape(c) else c for c in columns]
    template = "{" + ",".join(f'{n}="%s"' for n in labels) + "}"
    return [template % row for row in zip(*columns, strict=True)]


def _render_family(f: Family) -> str:
    """Column-wise: escaping is checked once per label column, each line is one %-format."""
    head = f"# HELP {f.name} {escape_help(f.help)}\n# TYPE {f.name} {f.kind}\n"
    if not f.values:
        return head
    values = format_values(f.values)
    if not f.labels:
        return head + "".join(f"{f.name} {v}\n" for v in values)
    texts = f.label_text if f.label_text is not None else label_strings(f.labels, f.rows)
    template = f.name + "%s %s\n"
    return head + "".join([template % pair for pair in zip(texts, values, strict=True)])


@dataclass
class Histogram:
    """A histogram computed from stored observations: cumulative `_bucket{le=...}`, `_sum`, `_count` per
    label set. `buckets` are the finite upper bounds, ascending (+Inf is added)."""

    name: str
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...]
    series: dict[tuple[str, ...], list[float]] = field(default_factory=dict)

    def observe(self, value: float, *label_values: str) -> None:
        self.series.setdefault(tuple(label_values), []).append(value)

    def render(self) -> str:
        lines = [f"# HELP {self.name} {escape_help(self.help)}\n# TYPE {self.name} histogram\n"]
        bounds = [*map(format_value, map(float, self.buckets)), "+Inf"]
        for label_values, values in sorted(self.series.items()):
            pairs = [f'{n}="{escape_label_value(v)}"' for n, v in zip(self.labels, label_values, strict=True)]
            ordered = sorted(values)
            counts = [sum(1 for v in ordered if v <= b) for b in self.buckets] + [len(ordered)]
            for le, count in zip(bounds, counts, strict=True):
                labels = ",".join([*pairs, 'le="' + le + '"'])
                lines.append(f"{self.name}_bucket{{{labels}}} {count}\n")
            head = "{" + ",".join(pairs) + "}" if pairs else ""
            lines.append(f"{self.name}_sum{head} {format_value(float(sum(ordered)))}\n")
            lines.append(f"{self.name}_count{head} {len(ordered)}\n")
        return "".join(lines)


def render(families: Sequence[Family | Histogram]) -> str:
    """The text exposition of every family, in the order given; families without samples keep
    their HELP/TYPE lines so scrapers and dashboards see the metric exists."""
    return "".join(f.render() if isinstance(f, Histogram) else _render_family(f) for f in families)
