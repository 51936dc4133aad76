"""The showback report as one self-contained HTML page with an inline SVG bar chart (no scripts,
no external files): per department, vCPU-hours used against vCPU-hours allocated."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from cloudctl.cloud_ops.showback import COLUMNS, ShowbackRow

BAR_H, GAP, LABEL_W, CHART_W = 18, 10, 160, 520


def _fmt(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return escape(str(v))


def svg_chart(rows: Sequence[ShowbackRow]) -> str:
    scale = max([r.vcpu_hours_allocated or 0.0 for r in rows] + [r.vcpu_hours for r in rows] + [1e-9])
    height = len(rows) * (2 * BAR_H + GAP) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{LABEL_W + CHART_W + 120}" height="{height}" '
             'role="img" aria-label="vCPU-hours used against allocated, per department">']
    y = 10
    for r in rows:
        alloc_w = CHART_W * (r.vcpu_hours_allocated or 0.0) / scale
        used_w = CHART_W * r.vcpu_hours / scale
        parts.append(f'<text x="0" y="{y + BAR_H + 4}" font-size="12">{escape(r.dept)}</text>')
        parts.append(f'<rect class="allocated" x="{LABEL_W}" y="{y}" width="{alloc_w:.1f}" height="{BAR_H}" '
                     f'fill="#c8d7ea"><title>{escape(r.dept)} allocated {_fmt(r.vcpu_hours_allocated)} '
                     'vCPU-h</title></rect>')
        parts.append(f'<rect class="used" x="{LABEL_W}" y="{y + BAR_H}" width="{used_w:.1f}" height="{BAR_H}" '
                     f'fill="#1f5fa8"><title>{escape(r.dept)} used {_fmt(r.vcpu_hours)} vCPU-h</title></rect>')
        parts.append(f'<text x="{LABEL_W + max(alloc_w, used_w) + 6:.1f}" y="{y + BAR_H + 4}" font-size="11">'
                     f'{_fmt(r.vcpu_hours)} / {_fmt(r.vcpu_hours_allocated)}</text>')
        y += 2 * BAR_H + GAP
    parts.append(f'<text x="{LABEL_W}" y="{height - 6}" font-size="11">light: allocated (quota × hours); '
                 'dark: used (Nova usage)</text></svg>')
    return "".join(parts)


def render_html(rows: Sequence[ShowbackRow], *, start: str, end: str) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_fmt(getattr(r, c))}</td>" for c in COLUMNS) + "</tr>" for r in rows)
    title = f"Showback {escape(start)} – {escape(end)}"
    return ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{title}</title><style>body{{font-family:sans-serif;margin:2em}}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}"
            "td:first-child{text-align:left}</style></head><body>"
            f"<h1>{title}</h1><p>Allocated (quota) against used, per department.</p>{svg_chart(rows)}"
            f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></body></html>\n")
