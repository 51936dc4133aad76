"""Plain data of `coverage availability` (and the report's availability section, the metrics).

Definitions (docs/availability.md): over a link's observed span — the period, cut to the days the
link is active (activated_on <= D < retired_on) and to now — every instant is up, down or unknown.
  availability ratio = up / (up + down)   (None when nothing is known)
  downtime           = down time
  outages            = down intervals that overlap the span (down, silent, down counts two)
  mean time to repair = downtime / outages (None without an outage)
  unknown            = span - up - down (the agent was silent, or never reported)
A division or level adds up the figures of its links (the division's own and those under it).
The JSON shape of `AvailabilityReport.to_json()` is the documented, stable one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

LEVEL_LENGTHS: dict[str, int] = {"province": 2, "prefecture": 4, "county": 6, "township": 9, "village": 12}
LEVEL_OF_LENGTH: dict[int, str] = {v: k for k, v in LEVEL_LENGTHS.items()}


@dataclass(frozen=True)
class Figures:
    """Availability figures of one link or a sum of links; times in milliseconds."""

    links: int
    span_ms: int
    up_ms: int
    down_ms: int
    outages: int

    @property
    def unknown_ms(self) -> int:
        return self.span_ms - self.up_ms - self.down_ms

    @property
    def ratio(self) -> float | None:
        known = self.up_ms + self.down_ms
        return self.up_ms / known if known else None

    @property
    def mttr_ms(self) -> float | None:
        return self.down_ms / self.outages if self.outages else None

    def to_json(self) -> dict[str, Any]:
        ratio, mttr = self.ratio, self.mttr_ms
        return {"links": self.links, "availability_ratio": None if ratio is None else round(ratio, 6),
                "up_seconds": self.up_ms / 1000, "downtime_seconds": self.down_ms / 1000,
                "unknown_seconds": self.unknown_ms / 1000, "observed_seconds": self.span_ms / 1000,
                "outages": self.outages, "mttr_seconds": None if mttr is None else round(mttr / 1000, 3)}


@dataclass(frozen=True)
class Outage:
    start_ms: int
    end_ms: int


@dataclass(frozen=True)
class DivisionAvailability:
    code: str
    name: str
    level: str
    figures: Figures

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level, **self.figures.to_json()}


@dataclass(frozen=True)
class LinkAvailability:
    link_id: str
    division_code: str
    division_name: str
    figures: Figures
    outages: list[Outage] | None = None  # listed for the worst links only

    def to_json(self, iso: Any) -> dict[str, Any]:
        data = {"link_id": self.link_id, "division_code": self.division_code, "division_name": self.division_name,
                **self.figures.to_json()}
        if self.outages is not None:
            data["outage_intervals"] = [{"start": iso(o.start_ms), "end": iso(o.end_ms),
                                         "seconds": (o.end_ms - o.start_ms) / 1000} for o in self.outages]
        return data


@dataclass(frozen=True)
class TargetStatus:
    """An availability target (`coverage target set --metric availability`) against the period's figures:
    the level's links' ratio, and how many divisions of the level are below it (when they were counted)."""

    level: str
    ratio: float
    by: date
    current: float | None
    divisions_below: int | None = None

    @property
    def met(self) -> bool | None:
        return None if self.current is None else self.current >= self.ratio - 1e-12

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "ratio": self.ratio, "by": self.by.isoformat(),
                "current_ratio": None if self.current is None else round(self.current, 6), "met": self.met,
                "divisions_below": self.divisions_below}


@dataclass(frozen=True)
class AvailabilityReport:
    first: date
    last: date
    start_ms: int
    end_ms: int  # the period's end, or now when that is earlier
    zone: str
    region: str | None
    region_name: str | None
    level: str
    total: Figures
    levels: list[tuple[str, Figures]]  # by the level of the links' own divisions
    divisions: list[DivisionAvailability]  # at `level`, worst first
    links: list[LinkAvailability]  # worst first
    worst: int | None = None
    province_levels: dict[tuple[str, str], Figures] = field(default_factory=dict)
    targets: list[TargetStatus] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        from cloudctl.availability.period import iso_ms

        return {"from": self.first.isoformat(), "to": self.last.isoformat(), "timezone": self.zone,
                "start": iso_ms(self.start_ms), "end": iso_ms(self.end_ms), "region": self.region,
                "region_name": self.region_name, "level": self.level, "worst": self.worst,
                "total": self.total.to_json(), "targets": [t.to_json() for t in self.targets],
                "levels": [{"level": name, **f.to_json()} for name, f in self.levels],
                "divisions": [d.to_json() for d in self.divisions],
                "links": [lk.to_json(iso_ms) for lk in self.links]}
