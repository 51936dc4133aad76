"""cloudctl coverage report: HTML, CSV, Markdown and JSON for planners (docs/reports.md).

`report` is a click command; the coverage group adds it (cloudctl/cli/coverage.py).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import click

from cloudctl.cli.context import AppContext, pass_app
from cloudctl.cli.output import OutputPath, emit_json, emit_rows, format_option, progress_bar
from cloudctl.cli.params import ISO_DATE
from cloudctl.cli.perform import read_only
from cloudctl.divisions.codes import LEVEL_NAMES as LEVELS


def default_out(region: str | None, as_of: date) -> Path:
    return Path("coverage_reports") / f"{region or 'country'}-{as_of.isoformat()}"


def print_report_summary(data: dict[str, Any], out: Path, files: list[Path], fmt: str) -> None:
    """The report's location and its per-level figures, in the chosen format."""
    rows = []
    for lv in data["levels"]:
        t = lv.get("target")
        rows.append({"level": lv["level"], "total": lv["total"], "covered": lv["covered"],
                     "ratio": f"{lv['ratio'] * 100:.1f} %" if fmt == "table" else lv["ratio"],
                     "target": "" if not t else (f"{t['ratio'] * 100:.1f} % by {t['by']}" if fmt == "table"
                                                 else t["ratio"]),
                     "still_to_connect": "" if not t else t["needed"],
                     "per_month": "" if not t or t["per_month"] is None else round(t["per_month"], 1)})
    if fmt == "json":
        emit_json({"out": str(out), "index": str(out / "index.html"), "files": [str(f) for f in files],
                   "as_of": data["as_of"], "region": data["region"]["code"], "levels": data["levels"]})
        return
    if fmt == "table":
        click.echo(f"report written: {out / 'index.html'} ({len(files)} files)", err=True)
    emit_rows(rows, ["level", "total", "covered", "ratio", "target", "still_to_connect", "per_month"], fmt,
              title=f"Coverage {data['region']['name']} as of {data['as_of']}")


@click.command("report")
@click.option("--as-of", type=ISO_DATE, default=None, help="Date of the figures (default: today).")
@click.option("--region", metavar="CODE", help="A division code (default: the whole country).")
@click.option("--out", "out", type=OutputPath("dir", create_parents=True), default=None,
              help="Output directory (default: coverage_reports/<region|country>-<date>).")
@click.option("--from", "trend_from", type=ISO_DATE, default=date(2009, 1, 1), show_default=True,
              help="Start of the trend chart.")
@click.option("--every", type=click.Choice(["month", "quarter", "year"]), default="year", show_default=True,
              help="Trend step.")
@click.option("--plan-level", type=click.Choice(LEVELS), default="township", show_default=True,
              help="Level of the connection plan shown.")
@click.option("--plan-limit", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Plan entries on the main page.")
@click.option("--page-plan-limit", type=click.IntRange(0, 1000), default=10, show_default=True,
              help="Plan entries on each drill-down page (0 = none).")
@click.option("--exclude-kind", "exclude_kinds", multiple=True, metavar="KIND",
              help="Leave divisions of this kind out of numerator and denominator (repeatable).")
@click.option("--no-drilldown", is_flag=True, help="Skip the per-child drill-down pages.")
@click.option("--availability-days", type=click.IntRange(0, 366), default=30, show_default=True,
              help="Link availability over the days ending on --as-of (0 = no availability section).")
@click.option("--availability-worst", type=click.IntRange(1, 200), default=10, show_default=True,
              help="Townships listed with their outages.")
@format_option()
@pass_app
@read_only
def report(app: AppContext, as_of: date | None, region: str | None, out: Path | None, trend_from: date,
           every: str, plan_level: str, plan_limit: int, page_plan_limit: int, exclude_kinds: tuple[str, ...],
           no_drilldown: bool, fmt: str, availability_days: int, availability_worst: int) -> None:
    """Write a coverage report: index.html (+ a page per child region), coverage.json/.csv/.md, plan.csv."""
    from cloudctl.coverage.report import ReportOptions, build_report, write_report

    as_of = as_of or app.clock.today()
    if out is None:
        from cloudctl.inputs.paths import check_output_dir

        out = check_output_dir(default_out(region, as_of), create_parents=True)
    opts = ReportOptions(as_of=as_of, region=region, trend_start=trend_from, trend_every=every,
                         plan_level=plan_level, plan_limit=plan_limit, drilldown_plan_limit=page_plan_limit,
                         drilldown=not no_drilldown, exclude_kinds=exclude_kinds,
                         availability_days=availability_days, availability_worst=availability_worst)
    with progress_bar("coverage report") as advance:
        data = build_report(app.store, opts, progress=advance)
        files = write_report(data, out)
    print_report_summary(data, out, files, fmt)
