"""cloudctl coverage availability | intervals: link availability from the agents' reports
(docs/availability.md). The coverage group adds these commands (cloudctl/cli/coverage.py).

Read path: the DB-API cursor and one statement (cloudctl/availability/query.py); neither numpy nor
SQLAlchemy is imported for a SQLite store.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import emit_json, emit_rows, emit_table, format_option
from cloudctl.cli.params import ISO_DATE
from cloudctl.cli.perform import read_only

LEVEL_CHOICE = click.Choice(["township", "county", "prefecture", "province"])


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.3f} %"


def _duration(ms: float | None) -> str:
    if ms is None:
        return "-"
    s = round(ms / 1000)
    d, rest = divmod(s, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def _figure_cells(f: Any) -> dict[str, Any]:
    return {"links": f.links, "availability": _pct(f.ratio), "downtime": _duration(f.down_ms),
            "outages": f.outages, "mttr": _duration(f.mttr_ms), "unknown": _duration(f.unknown_ms)}


FIGURE_COLUMNS = ["links", "availability", "downtime", "outages", "mttr", "unknown"]
CSV_COLUMNS = ["code", "name", "level", "links", "availability_ratio", "up_seconds", "downtime_seconds",
               "unknown_seconds", "observed_seconds", "outages", "mttr_seconds"]


@click.command("availability")
@click.option("--from", "first", type=ISO_DATE, required=True, help="First day (in the configured time zone).")
@click.option("--to", "last", type=ISO_DATE, default=None, help="Last day, included (default: today).")
@click.option("--region", metavar="CODE", help="A division code (default: the whole country).")
@click.option("--level", type=LEVEL_CHOICE, default="township", show_default=True,
              help="Roll the links up to the divisions of this level.")
@click.option("--worst", type=click.IntRange(1, 100_000), default=None, metavar="N",
              help="Only the N worst divisions and links, with each link's outages.")
@format_option()
@pass_app
@read_only
def availability_cmd(app: AppContext, first: date, last: date | None, region: str | None, level: str,
                     worst: int | None, fmt: str) -> None:
    """Availability, downtime, outages, mean time to repair and unknown time of the extranet links,
    from the agents' reports: per level, per division at --level (worst first) and per link."""
    from cloudctl.availability.period import iso_ms, period_of
    from cloudctl.availability.query import read_availability
    from cloudctl.coverage.targets import read_targets

    clock = app.clock
    period = period_of(first, last or clock.today(), clock)
    targets = read_targets(app.store, region or "", metric="availability")
    report = read_availability(app.store, period, region=region, level=level, worst=worst, targets=targets)
    if fmt == "json":
        emit_json(report.to_json())
        return
    if fmt == "csv":
        emit_rows([d.to_json() for d in report.divisions], CSV_COLUMNS, fmt)
        return
    where = f"{report.region_name} {region}" if region else "country"
    click.echo(f"Link availability, {where}, {period.first.isoformat()} to {period.last.isoformat()} "
               f"({period.zone}; {iso_ms(period.start_ms)} to {iso_ms(period.end_ms)})")
    emit_table([{"level": "all", **_figure_cells(report.total)}]
               + [{"level": name, **_figure_cells(f)} for name, f in report.levels], ["level", *FIGURE_COLUMNS])
    for t in report.targets:
        state = "no figures" if t.met is None else ("met" if t.met else "not met")
        below = "" if t.divisions_below is None else f"; {t.divisions_below} {level}s below it"
        click.echo(f"target: {t.level} links {t.ratio * 100:g} % by {t.by.isoformat()}: "
                   f"{_pct(t.current)} over the period, {state}{below}")
    heading = f"\nThe {worst} worst {level}s:" if worst else f"\nBy {level}, worst first:"
    click.echo(heading)
    emit_table([{"code": d.code, "name": d.name, **_figure_cells(d.figures)} for d in report.divisions],
               ["code", "name", *FIGURE_COLUMNS])
    if worst:
        click.echo(f"\nThe {worst} worst links:")
        emit_table([{"link": lk.link_id, "division": f"{lk.division_name} {lk.division_code}".strip(),
                     **_figure_cells(lk.figures),
                     "longest outage": _duration(max((o.end_ms - o.start_ms for o in lk.outages or []), default=None))}
                    for lk in report.links], ["link", "division", *FIGURE_COLUMNS[1:], "longest outage"])


@click.command("intervals")
@click.option("--from", "first", type=ISO_DATE, required=True, help="First day (in the configured time zone).")
@click.option("--to", "last", type=ISO_DATE, default=None, help="Last day, included (default: today).")
@click.option("--region", metavar="CODE", help="A division code (default: the whole country).")
@format_option(default="csv")
@pass_app
@read_only
def intervals_cmd(app: AppContext, first: date, last: date | None, region: str | None, fmt: str) -> None:
    """Export the links' up and down intervals that overlap the period, as stored (UTC; a link's
    time outside its intervals is unknown)."""
    from cloudctl.availability.export import COLUMNS, export_intervals
    from cloudctl.availability.period import period_of
    from cloudctl.availability.query import check_region

    clock = app.clock
    period = period_of(first, last or clock.today(), clock)
    if region:
        check_region(app.store, region)
    rows = export_intervals(app.store, period, int(clock.now().timestamp() * 1000), region)
    if fmt == "csv":
        import sys

        from cloudctl.inputs.csvout import csv_writer

        writer = csv_writer(sys.stdout)
        writer.writerow(COLUMNS)
        writer.writerows(rows)
        return
    emit_rows([dict(zip(COLUMNS, r, strict=True)) for r in rows], list(COLUMNS), fmt)
