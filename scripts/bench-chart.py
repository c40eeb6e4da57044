#!/usr/bin/env python3
"""Chart berth's ratio to each anchor server from one bench harness result.

Usage: scripts/bench-chart.py RESULT.json [-o OUT.svg] [--name berth]
                              [--anchors nginx,h2o,lighttpd,hyper,ceiling]
                              [--linear]

RESULT.json is what ../shared/bench/run writes into --out DIR
(bench-<stamp>.json: {"meta": {...}, "rows": [...], "raw": {...}}). For every
workload the chart has one group of bars, one bar per anchor: berth's figure
divided by the anchor's, on that workload's primary metric, measured in the
same run. req/s is higher-better, so the ratio is berth / anchor; for `idle`
(KiB per held connection, lower-better) it is inverted to anchor / berth, so
that everywhere a bar above the 1.0 line means berth did better.

The y axis is logarithmic by default (bars grow up or down from 1.0, so x2
and x0.5 look equally far from parity); --linear draws bars from 0 instead.
Python 3 standard library only.
"""

import argparse
import datetime
import json
import math
import os
import sys
from xml.sax.saxutils import escape

DEFAULT_ANCHORS = ["nginx", "h2o", "lighttpd", "hyper", "ceiling"]
COLORS = {
    "nginx": "#2a9d3f",
    "h2o": "#1f6fb4",
    "lighttpd": "#e08a12",
    "hyper": "#8a4fbf",
    "ceiling": "#7a7a7a",
    "seed": "#c0392b",
}
EXTRA_COLORS = ["#17becf", "#bcbd22", "#e377c2", "#8c564b"]
# Workloads whose primary metric is lower-better (the ratio is inverted).
LOWER_BETTER = {"idle": "KiB/conn"}
METRIC = {"close": "conn/s"}
# Log-scale axis limits.
LOG_MIN, LOG_MAX = 1 / 16, 64.0

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def metric_of(row):
    """The row's primary metric value (None when missing or not measured)."""
    if row is None or row.get("status") != "ok":
        return None
    key = "kib_per_conn" if row["workload"] in LOWER_BETTER else "rps"
    value = row.get(key)
    return value if isinstance(value, (int, float)) and value > 0 else None


def collect(data, name, anchors):
    """[(workload, berth_row, [(anchor, ratio or None, why)])] in run order."""
    rows = data.get("rows", [])
    servers = []
    for r in rows:
        if r.get("server") not in servers:
            servers.append(r.get("server"))
    if name not in servers:
        sys.exit(f"bench-chart: no server named {name!r} in this result "
                 f"(servers: {', '.join(map(str, servers)) or 'none'}); use --name")
    workloads = []
    for r in rows:
        if r.get("workload") not in workloads:
            workloads.append(r.get("workload"))
    by_key = {(r.get("workload"), r.get("server")): r for r in rows}
    groups = []
    for w in workloads:
        mine = by_key.get((w, name))
        mv = metric_of(mine)
        bars = []
        for a in anchors:
            other = by_key.get((w, a))
            if other is None:
                continue  # anchor not run on this workload: no slot at all
            ov = metric_of(other)
            if mv is None:
                bars.append((a, None, "berth " + (mine or {}).get("status", "missing")))
            elif ov is None:
                bars.append((a, None, other.get("status") or "n/a"))
            elif w in LOWER_BETTER:
                bars.append((a, ov / mv, ""))
            else:
                bars.append((a, mv / ov, ""))
        if bars:
            groups.append((w, mine, bars))
    return groups


def fmt_ratio(x):
    if x < 0.095:
        return f"{x:.1g}"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}" if x < 100 else f"{x:.0f}"


def fmt_tick(x):
    if x >= 1 or x == 0:
        return f"{x:g}"
    inv = 1 / x
    return f"1/{inv:g}" if abs(inv - round(inv)) < 1e-9 else f"{x:.2g}"


def nice_ticks_log(lo, hi):
    """Powers of two covering [lo, hi], from 1/2 or below to 2 or above."""
    e_lo = min(math.floor(math.log2(lo)), -1)
    e_hi = max(math.ceil(math.log2(hi)), 1)
    return [2.0 ** e for e in range(e_lo, e_hi + 1)]


def nice_ticks_linear(hi):
    hi = max(hi, 1.2)
    raw = hi / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    n = math.ceil(hi / step)
    return [i * step for i in range(n + 1)]


def render(data, groups, name, anchors, linear):
    meta = data.get("meta", {})
    present = [a for a in anchors if any(a == b[0] for _, _, bars in groups for b in bars)]
    colors = {}
    extra = iter(EXTRA_COLORS * 4)
    for a in present:
        colors[a] = COLORS.get(a) or next(extra)

    n_bars = sum(len(bars) for _, _, bars in groups)
    left, right, top, bottom = 78, 24, 92, 78
    plot_h = 380
    bar_gap, group_gap = 4, 40
    width = max(960, left + right + 110 * len(present) + 130)
    plot_w = width - left - right
    # Bars fill the width, within reason; a long run widens the chart instead.
    bar_w = (plot_w - group_gap * (len(groups) + 1)) / n_bars - bar_gap
    bar_w = min(max(bar_w, 26), 40)
    group_ws = [len(bars) * (bar_w + bar_gap) - bar_gap for _, _, bars in groups]
    plot_w = max(plot_w, sum(group_ws) + group_gap * (len(groups) + 1))
    width = left + plot_w + right
    # Spread any extra width between the groups.
    group_gap = (plot_w - sum(group_ws)) / (len(groups) + 1)
    height = top + plot_h + bottom

    values = [v for _, _, bars in groups for _, v, _ in bars if v is not None]
    if linear:
        ticks = nice_ticks_linear(max(values, default=1.0) * 1.08)
        y_lo, y_hi = 0.0, ticks[-1]

        def y_of(v):
            return top + plot_h * (1 - (v - y_lo) / (y_hi - y_lo))
    else:
        # The axis spans at most 1/16x..64x: a bar beyond is drawn to the
        # edge and its label keeps the true value (the ceiling anchor's idle
        # memory, for one, would otherwise squash every other bar).
        lo = max(min(values, default=1.0), LOG_MIN)
        hi = min(max(values, default=1.0), LOG_MAX)
        ticks = nice_ticks_log(lo, hi)
        y_lo, y_hi = math.log2(ticks[0]), math.log2(ticks[-1])

        def y_of(v):
            v = min(max(v, ticks[0]), ticks[-1])
            return top + plot_h * (1 - (math.log2(v) - y_lo) / (y_hi - y_lo))

    base = y_of(0.0 if linear else 1.0)
    one = y_of(1.0)
    out = []
    add = out.append
    add(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">')
    add(f'<rect width="{width}" height="{height}" fill="#ffffff"/>')

    # Title and subtitle.
    date = meta.get("date", "")
    try:
        date = datetime.datetime.fromisoformat(date).strftime("%Y-%m-%d %H:%M %Z").strip()
    except ValueError:
        pass
    title = f"{name} ÷ anchors, same run ({date})" if date else f"{name} ÷ anchors, same run"
    add(f'<text x="{left}" y="28" font-size="18" font-weight="bold">{escape(title)}</text>')
    reps, dur = meta.get("reps"), meta.get("duration_s")
    run = f"median of {reps} × {dur} s" if reps and dur else ""
    if meta.get("reps") == 1:
        run += " (quick run: a smoke test, not a measurement)"
    sub = (f"higher bar = {name} better · req/s: {name} ÷ anchor · idle KiB/conn (lower-better): "
           f"inverted, anchor ÷ {name}")
    add(f'<text x="{left}" y="48" font-size="12" fill="#333">{escape(sub)}</text>')
    note = "; ".join(x for x in (run, "gaps under ~20 % are noise on this shared 2-core VM") if x)
    add(f'<text x="{left}" y="64" font-size="12" fill="#666">{escape(note)}</text>')

    # Legend.
    lx = left
    for a in present:
        add(f'<rect x="{lx}" y="74" width="12" height="12" fill="{colors[a]}"/>')
        add(f'<text x="{lx + 17}" y="84" font-size="12">{escape(a)}</text>')
        lx += 110
    add(f'<line x1="{lx}" y1="80" x2="{lx + 24}" y2="80" stroke="#111" stroke-width="1.5" '
        f'stroke-dasharray="6 3"/>')
    add(f'<text x="{lx + 30}" y="84" font-size="12">parity (1.0)</text>')

    # Grid and y axis.
    for t in ticks:
        y = y_of(t)
        add(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
            f'stroke="#e4e4e4" stroke-width="1"/>')
        add(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#444">{fmt_tick(t)}×</text>')
    axis = f"{name} ÷ anchor" + ("" if linear else " (log scale)")
    add(f'<text transform="translate(18 {top + plot_h / 2:.0f}) rotate(-90)" font-size="12" '
        f'text-anchor="middle" fill="#444">{escape(axis)}</text>')
    add(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#999"/>')

    # Bars.
    gx = left + group_gap
    for (w, mine, bars), gw in zip(groups, group_ws):
        x = gx
        for a, v, why in bars:
            if v is None:
                # No bar (anchor or berth not measured): say why, reading
                # upwards from the parity line.
                add(f'<text x="{x + bar_w / 2 + 3:.1f}" y="{one - 6:.1f}" font-size="9" '
                    f'fill="#888" transform="rotate(-90 {x + bar_w / 2 + 3:.1f} '
                    f'{one - 6:.1f})">{escape(why[:24])}</text>')
            else:
                y = y_of(v)
                y0, h = min(y, base), abs(base - y)
                tip = f"{w}: {name} / {a} = {v:.3f}" if w not in LOWER_BETTER else \
                    f"{w}: {a} / {name} KiB/conn = {v:.3f}"
                add(f'<rect x="{x:.1f}" y="{y0:.1f}" width="{bar_w}" height="{max(h, 1):.1f}" '
                    f'fill="{colors[a]}"><title>{escape(tip)}</title></rect>')
                above = v >= 1.0 or linear
                clipped = not linear and not ticks[0] <= v <= ticks[-1]
                if clipped:
                    # A break mark near the clipped end of the bar, and the
                    # true value inside the bar, past the break.
                    y1, y2 = (y + 14, y + 8) if above else (y - 8, y - 14)
                    add(f'<line x1="{x - 2:.1f}" y1="{y1:.1f}" x2="{x + bar_w + 2:.1f}" '
                        f'y2="{y2:.1f}" stroke="#ffffff" stroke-width="3"/>')
                    ty, fill = ((y + 26) if above else (y - 20)), "#ffffff"
                else:
                    ty, fill = ((y - 4) if above else (y + 11)), "#222"
                add(f'<text x="{x + bar_w / 2:.1f}" y="{ty:.1f}" font-size="9" text-anchor="middle" '
                    f'fill="{fill}">{fmt_ratio(v)}</text>')
            x += bar_w + bar_gap
        cx = gx + gw / 2
        label_y = top + plot_h + 18
        add(f'<text x="{cx:.1f}" y="{label_y}" font-size="12" font-weight="bold" '
            f'text-anchor="middle">{escape(w)}</text>')
        metric = LOWER_BETTER.get(w, METRIC.get(w, "req/s"))
        metric += " (inverted)" if w in LOWER_BETTER else ""
        add(f'<text x="{cx:.1f}" y="{label_y + 15}" font-size="10" text-anchor="middle" '
            f'fill="#555">{escape(metric)}</text>')
        extra_note = ""
        if mine is not None and mine.get("status") != "ok":
            extra_note = f"{name}: {mine.get('status')}"
        elif mine is not None and "wrk-bound" in (mine.get("note") or ""):
            extra_note = "wrk-bound"
        if extra_note:
            add(f'<text x="{cx:.1f}" y="{label_y + 29}" font-size="10" text-anchor="middle" '
                f'fill="#b03030">{escape(extra_note)}</text>')
        gx += gw + group_gap

    # Parity line at 1.0, on top of the bars.
    add(f'<line x1="{left}" y1="{one:.1f}" x2="{left + plot_w}" y2="{one:.1f}" '
        f'stroke="#111" stroke-width="1.5" stroke-dasharray="6 3"/>')
    foot = ("wrk-bound: the load generator, not the server, was the limit (see the harness "
            "README); bars compare servers from this run only.")
    add(f'<text x="{left}" y="{height - 14}" font-size="10" fill="#666">{escape(foot)}</text>')
    add("</svg>")
    return "\n".join(out) + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(
        description="SVG chart of a server's ratio to each anchor from a bench harness JSON.")
    p.add_argument("result", help="bench-<stamp>.json written by ../shared/bench/run")
    p.add_argument("-o", "--out", default=os.path.join(REPO, "docs", "bench-ratios.svg"),
                   help="output SVG (default: docs/bench-ratios.svg in the repository)")
    p.add_argument("--name", default="berth", help="server under test in the result (default berth)")
    p.add_argument("--anchors", default=",".join(DEFAULT_ANCHORS),
                   help="comma list of anchors to compare with, in bar order "
                        f"(default {','.join(DEFAULT_ANCHORS)}; absent ones are skipped)")
    p.add_argument("--linear", action="store_true", help="linear y axis from 0 instead of log")
    args = p.parse_args(argv)

    try:
        with open(args.result) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"bench-chart: cannot read {args.result}: {e}")
    anchors = [a.strip() for a in args.anchors.split(",") if a.strip() and a.strip() != args.name]
    groups = collect(data, args.name, anchors)
    if not groups:
        sys.exit(f"bench-chart: no workload has both {args.name} and one of the anchors "
                 f"({', '.join(anchors)})")
    svg = render(data, groups, args.name, anchors, args.linear)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(svg)
    print(f"bench-chart: wrote {args.out} ({len(groups)} workloads)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
