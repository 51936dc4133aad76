"""Plain data the coverage capability computes and the reports render.

The JSON shape of CoverageSummary.to_json() is the documented, stable one of
`cloudctl coverage summary --format json`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from cloudctl.divisions.codes import LEVEL_NAMES as LEVELS  # the one list of level names (index + 1 = level)

LINK_TYPES: tuple[str, ...] = ("fiber", "mstp", "sdh", "vpn", "wireless", "satellite")


def level_name(level: int) -> str:
    return LEVELS[level - 1]


def level_number(name: str) -> int:
    return LEVELS.index(name) + 1


@dataclass(frozen=True)
class LevelCoverage:
    level: str
    total: int
    covered: int
    online: int | None = None  # divisions with a link reported up recently (`summary --online`)

    @property
    def ratio(self) -> float:
        return self.covered / self.total if self.total else 0.0

    @property
    def online_ratio(self) -> float | None:
        if self.online is None:
            return None
        return self.online / self.total if self.total else 0.0

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"level": self.level, "total": self.total, "covered": self.covered,
                                "ratio": round(self.ratio, 6)}
        if self.online is not None:
            data |= {"online": self.online, "online_ratio": round(self.online_ratio or 0.0, 6)}
        return data


@dataclass(frozen=True)
class ChildCoverage:
    code: str
    name: str
    levels: list[LevelCoverage]

    def level(self, name: str) -> LevelCoverage | None:
        return next((lv for lv in self.levels if lv.level == name), None)

    def to_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "levels": [lv.to_json() for lv in self.levels]}


@dataclass(frozen=True)
class CoverageSummary:
    as_of: date
    region: str | None
    levels: list[LevelCoverage]
    children: list[ChildCoverage] | None = None
    region_name: str | None = None

    def level(self, name: str) -> LevelCoverage | None:
        return next((lv for lv in self.levels if lv.level == name), None)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"as_of": self.as_of.isoformat(), "region": self.region,
                                "levels": [lv.to_json() for lv in self.levels]}
        if self.children is not None:
            data["children"] = [c.to_json() for c in self.children]
        return data


METRICS: tuple[str, ...] = ("coverage", "availability")  # what a target measures (docs/coverage.md)


@dataclass(frozen=True)
class Target:
    """coverage: the share of the level's divisions covered; availability: the availability ratio of the
    links of the level's divisions (docs/availability.md)."""

    level: str
    ratio: float
    by: date
    region: str | None = None
    metric: str = "coverage"


@dataclass(frozen=True)
class TargetGap:
    """How far a level is from its target: divisions still to connect, and the pace needed."""

    target: Target
    current: LevelCoverage
    needed: int  # divisions still to connect to reach the target ratio
    months_left: float
    per_month: float | None  # None when the deadline has passed and needed > 0

    @property
    def met(self) -> bool:
        return self.needed <= 0


@dataclass(frozen=True)
class PlanEntry:
    """One uncovered division in the connection plan, with the reasons behind its score."""

    rank: int
    code: str
    name: str
    kind: str
    province: str
    county: str
    score: float
    reasons: list[str] = field(default_factory=list)
