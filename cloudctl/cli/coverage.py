"""cloudctl coverage: summary, trend, targets and the connection plan (docs/coverage.md)."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, emit_table, format_option
from cloudctl.cli.params import ISO_DATE, LEVEL_CHOICE
from cloudctl.cli.perform import performs, read_only


def region_option(f):  # type: ignore[no-untyped-def]
    return click.option("--region", metavar="CODE", help="A division code (default: the whole country).")(f)


def exclude_kind_option(f):  # type: ignore[no-untyped-def]
    return click.option("--exclude-kind", "exclude_kinds", multiple=True, metavar="KIND",
                        help="Leave divisions of this kind out of numerator and denominator (repeatable).")(f)


def as_of_option(f):  # type: ignore[no-untyped-def]
    return click.option("--as-of", type=ISO_DATE, default=None, help="Date (default: today).")(f)


def pct(ratio: float) -> str:
    return f"{ratio * 100:.1f} %"



@click.group()
def coverage() -> None:
    """Extranet coverage: a division is covered on D when one of its own links is active on D."""


@coverage.command("summary")
@as_of_option
@region_option
@click.option("--by-child", is_flag=True, help="Add a breakdown per direct child of the region.")
@exclude_kind_option
@click.option("--online", is_flag=True,
              help="Also count divisions online now: a link active today whose agent reported it up recently.")
@click.option("--fresh-within", "fresh_within", type=float, default=None, metavar="SECONDS",
              help="With --online: how recent an up report must be (default 45 s: three 15 s heartbeats).")
@format_option()
@pass_app
@read_only
def summary_cmd(app: AppContext, as_of: date | None, region: str | None, by_child: bool,
                exclude_kinds: tuple[str, ...], online: bool, fresh_within: float | None, fmt: str) -> None:
    """Covered/total and ratio per level, with target gap and pace where targets exist."""
    from cloudctl.coverage.rollup import rollup_coverage
    from cloudctl.errors import InputError

    if online and as_of is not None:
        raise InputError("--online counts what is online now; it cannot be combined with --as-of",
                         field="--as-of", hint="drop --as-of, or drop --online for coverage on a past date")
    if fresh_within is not None and not online:
        raise InputError("--fresh-within only applies with --online", field="--fresh-within")
    if online:
        from cloudctl.coverage.online import DEFAULT_FRESH_WITHIN_S, rollup_online

        summary = rollup_online(app.store, region, exclude_kinds, by_child, fresh_within or DEFAULT_FRESH_WITHIN_S)
        as_of = summary.as_of
    else:
        as_of = as_of or app.clock.today()
        summary = rollup_coverage(app.store, as_of, region, exclude_kinds, by_child)
    if fmt == "json":
        emit_json(summary.to_json())
        return
    online_cols = ["online", "online_ratio"] if online else []
    if fmt == "csv":
        rows = [{"code": region or "", "name": summary.region_name or "", **lv.to_json()} for lv in summary.levels]
        rows += [{"code": c.code, "name": c.name, **lv.to_json()} for c in summary.children or [] for lv in c.levels]
        emit_rows(rows, ["code", "name", "level", "total", "covered", "ratio", *online_cols], fmt)
        return
    from cloudctl.coverage.online import DEFAULT_FRESH_WITHIN_S
    from cloudctl.coverage.targets import read_targets, target_gaps

    gaps = {g.target.level: g for g in target_gaps(summary, read_targets(app.store, region or ""), as_of)}
    rows = []
    for lv in summary.levels:
        row: dict[str, Any] = {"level": lv.level, "covered": lv.covered, "total": lv.total, "ratio": pct(lv.ratio)}
        if online:
            row |= {"online": lv.online, "online ratio": pct(lv.online_ratio or 0.0)}
        if g := gaps.get(lv.level):
            row |= {"target": pct(g.target.ratio), "by": g.target.by.isoformat(), "gap": g.needed,
                    "per month": "target date passed" if g.per_month is None else f"{g.per_month:.1f}"}
        rows.append(row)
    cols = ["level", "covered", "total", "ratio"] + (["online", "online ratio"] if online else [])
    cols += ["target", "by", "gap", "per month"] if gaps else []
    where = f"{summary.region_name or ''} {region}".strip() if region else "country"
    click.echo(f"Extranet coverage, {where}, as of {as_of.isoformat()}"
               + (f" (online: up within {fresh_within or DEFAULT_FRESH_WITHIN_S:g} s)" if online else ""))
    emit_table(rows, cols)
    if summary.children is not None:
        levels = [lv.level for lv in summary.levels if any(c.level(lv.level) for c in summary.children)]
        child_rows = []
        for c in summary.children:
            row = {"code": c.code, "name": c.name}
            for name in levels:
                lv = c.level(name)
                cell = f"{lv.covered}/{lv.total} {pct(lv.ratio)}" if lv else ""
                if lv and online:
                    cell += f", online {lv.online}"
                row[name] = cell
            child_rows.append(row)
        click.echo("\nBy child:")
        emit_table(child_rows, ["code", "name", *levels])


@coverage.command("trend")
@click.option("--from", "start", type=ISO_DATE, required=True, help="First date.")
@click.option("--to", "end", type=ISO_DATE, default=None, help="Last date (default: today).")
@click.option("--every", type=click.Choice(["month", "quarter", "year"]), default="month", show_default=True,
              help="A point at the end of each period between --from and --to.")
@region_option
@exclude_kind_option
@format_option()
@pass_app
@read_only
def trend_cmd(app: AppContext, start: date, end: date | None, every: str, region: str | None,
              exclude_kinds: tuple[str, ...], fmt: str) -> None:
    """Coverage per level over time (all dates from one pass over the links)."""
    from cloudctl.coverage.trend import coverage_trend

    series = coverage_trend(app.store, start, end or app.clock.today(), every, region, exclude_kinds)
    if fmt == "json":
        emit_json([s.to_json() for s in series])
    elif fmt == "csv":
        rows = [{"as_of": s.as_of.isoformat(), **lv.to_json()} for s in series for lv in s.levels]
        emit_rows(rows, ["as_of", "level", "total", "covered", "ratio"], fmt)
    else:
        levels = [lv.level for lv in series[0].levels] if series else []
        rows = [{"as_of": s.as_of.isoformat(), **{lv.level: f"{lv.covered} {pct(lv.ratio)}" for lv in s.levels}}
                for s in series]
        click.echo(f"Coverage trend, {region or 'country'}, every {every}")
        emit_table(rows, ["as_of", *levels])


@coverage.group("target")
def target_group() -> None:
    """Targets: a coverage or availability ratio of a level by a date, for the country or a region."""


@target_group.command("set")
@click.option("--metric", type=click.Choice(["coverage", "availability"]), default="coverage", show_default=True,
              help="coverage: share of the level's divisions covered; availability: availability ratio of the "
                   "level's links (docs/availability.md).")
@click.option("--level", type=LEVEL_CHOICE, required=True)
@click.option("--ratio", required=True, help="Target ratio, 0 < R <= 1 (0.9 for 90 %).")
@click.option("--by", "by", type=ISO_DATE, required=True, help="Deadline YYYY-MM-DD.")
@region_option
@performs("cloudctl.coverage.actions:SET_TARGET")
def target_set_cmd(app: AppContext, result: Any) -> None:
    """Create or replace the target for a metric and level (and region)."""
    what = "" if result.metric == "coverage" else f" {result.metric}"
    ratio = pct(result.ratio) if result.metric == "coverage" else f"{result.ratio * 100:g} %"
    click.echo(f"target set: {result.level}{what} {ratio} by {result.by.isoformat()} for "
               f"{result.region or 'the country'}")


@target_group.command("list")
@region_option
@format_option()
@pass_app
@read_only
def target_list_cmd(app: AppContext, region: str | None, fmt: str) -> None:
    """List targets of every metric (all regions unless --region)."""
    from cloudctl.coverage.targets import read_targets

    targets = read_targets(app.store, region, metric=None)
    rows = [{"region": t.region, "metric": t.metric, "level": t.level, "ratio": t.ratio, "by": t.by.isoformat()}
            for t in targets]
    emit_rows(rows, ["region", "metric", "level", "ratio", "by"], fmt)


def parse_weights(pairs: tuple[str, ...]) -> dict[str, float]:
    from cloudctl.errors import InputError

    out = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            if not sep:
                raise ValueError
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"expected NAME=NUMBER, got {pair!r}", field="--weight") from None
    return out


@coverage.command("plan")
@click.option("--level", type=LEVEL_CHOICE, default="township", show_default=True)
@region_option
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True)
@as_of_option
@click.option("--weight", "weights", multiple=True, metavar="NAME=VALUE",
              help="Override a score weight (parent_covered, western, ethnic_autonomous, ethnic_township, "
                   "low_coverage).")
@click.option("--weights", "weights_file", type=click.Path(dir_okay=False), help="YAML file NAME: VALUE.")
@exclude_kind_option
@format_option()
@pass_app
@read_only
def plan_cmd(app: AppContext, level: str, region: str | None, limit: int, as_of: date | None,
             weights: tuple[str, ...], weights_file: str | None, exclude_kinds: tuple[str, ...], fmt: str) -> None:
    """Rank uncovered divisions to connect next; every row says why."""
    from cloudctl.coverage.plan import plan_connections, resolve_weights

    w = resolve_weights(parse_weights(weights), weights_file)
    entries = plan_connections(app.store, as_of or app.clock.today(), level, region, limit, w, exclude_kinds)
    rows = [{"rank": e.rank, "code": e.code, "name": e.name, "kind": e.kind, "province": e.province,
             "county": e.county, "score": e.score, "reasons": e.reasons if fmt == "json" else "; ".join(e.reasons)}
            for e in entries]
    emit_rows(rows, ["rank", "code", "name", "kind", "province", "county", "score", "reasons"], fmt)


def _add_report_command() -> None:
    """`coverage report` and `coverage availability` live in their own modules
    (cloudctl/cli/coverage_report.py, coverage_availability.py)."""
    from cloudctl.cli.coverage_availability import availability_cmd, intervals_cmd
    from cloudctl.cli.coverage_report import report

    coverage.add_command(report)
    coverage.add_command(availability_cmd)
    coverage.add_command(intervals_cmd)


_add_report_command()
