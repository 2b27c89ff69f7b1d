"""The HTML report: one self-contained file (inline SVG plots, inline CSS,
no script, nothing fetched), plots with one column per guest, then the TAP
results per guest with links to the logs.

Each section embeds what it drew as JSON in
<script type="application/json" class="plot-data" data-plot="KEY">,
data a browser does not run and a test can read.
"""

import html
import json
import os
from urllib.parse import quote

from . import summary as summary_mod

CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1200px; padding: 0 1em;
       color: #212529; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
h2 { font-size: 1.15em; margin: 1.8em 0 .3em; border-bottom: 1px solid #dee2e6; }
.meta, .caption { color: #495057; }
.caption { max-width: 60em; margin-top: 0; }
.guests { display: flex; gap: 1em; flex-wrap: wrap; }
.card { border: 1px solid #dee2e6; border-radius: 6px; padding: .6em 1em; flex: 1 1 20em; }
.card h3 { margin: 0 0 .3em; font-size: 1.05em; }
.pass { color: #2b8a3e; font-weight: 600; }
.fail { color: #c92a2a; font-weight: 600; }
.note { color: #862e9c; margin: .2em 0; }
.nodata { color: #868e96; font-style: italic; }
.figure svg { max-width: 100%; height: auto; }
.cols { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1.5em; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 2px 6px; border-bottom: 1px solid #f1f3f5; }
th { background: #f8f9fa; }
td.n { text-align: right; color: #868e96; }
tr.notok td { background: #fff5f5; }
tr.skip td, tr.todo td { color: #868e96; }
pre { background: #f8f9fa; padding: .8em; overflow-x: auto; font-size: 12.5px; }
"""


def esc(text):
    return html.escape(str(text), quote=True)


def data_block(key, payload):
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False).replace('</', '<\\/')
    return f'<script type="application/json" class="plot-data" data-plot="{esc(key)}">{text}</script>'


def href(path, out_dir):
    return quote(os.path.relpath(os.path.abspath(path), out_dir))


def cards(guests, out_dir):
    out = ['<section class="guests">']
    for g in guests:
        verdict = '<span class="pass">PASS</span>' if g.passed else '<span class="fail">FAIL</span>'
        facts = [f'{g.count("ok") + g.count("todo")} ok, {g.count("not ok")} not ok, '
                 f'{g.count("skip")} skipped of {len(g.results)}']
        if g.xen:
            facts.append(f'Xen {esc(g.xen)}')
        if g.vcpus:
            facts.append(f'{g.vcpus} vCPUs' + (f' on {g.pcpus} pCPUs' if g.pcpus else '')
                         + (f', {esc(g.sched)}' if g.sched else ''))
        if g.qemu_s is not None:
            facts.append(f'QEMU ran {g.qemu_s:g} s')
        facts.extend(esc(p) for p in g.problems)
        links = ' · '.join(f'<a href="{href(p, out_dir)}">{esc(label)}</a>' for label, p in g.links)
        out.append(f'<div class="card"><h3>{esc(g.name)}: {verdict}</h3>'
                   + '<br>'.join(facts) + (f'<br>{links}' if links else '') + '</div>')
    out.append('</section>')
    return out


def plot_section(plot, guests):
    out = [f'<section id="{esc(plot.key)}"><h2>{esc(plot.title)}</h2>',
           f'<p class="caption">{esc(plot.caption)}</p>']
    for g in guests:
        if g.name in plot.notes:
            out.append(f'<p class="note">{esc(g.name)}: {esc(plot.notes[g.name])}</p>')
    if plot.svg:
        out.append(f'<div class="figure">{plot.svg}</div>')
    else:
        out.append('<p class="nodata">No data in this log for this plot.</p>')
    out.append(data_block(plot.key, {'drawn': plot.svg is not None, 'guests': plot.data,
                                     'notes': plot.notes}))
    out.append('</section>')
    return out


def results_section(guests, out_dir):
    out = ['<section id="results"><h2>TAP results</h2>',
           '<p class="caption">Every result line of each stream; a not ok line is shaded. '
           'The links open the serial log and TAP stream the report was built from.</p>',
           '<div class="cols">']
    data = {}
    for g in guests:
        links = ' · '.join(f'<a href="{href(p, out_dir)}">{esc(label)}</a>' for label, p in g.links)
        rows = []
        for r in g.results:
            css = r.verdict.replace(' ', '')
            rows.append(f'<tr class="{css}"><td class="n">{r.number or ""}</td><td>{esc(r.verdict)}</td>'
                        f'<td>{esc(r.area)}</td><td>{esc(r.text)}</td><td>{esc(r.directive)}</td></tr>')
        table = ('<table><tr><th>#</th><th>verdict</th><th>area</th><th>description</th><th>directive</th></tr>'
                 + ''.join(rows) + '</table>') if rows else '<p class="nodata">No TAP results in this log.</p>'
        out.append(f'<div><h3>{esc(g.name)}</h3><p>{links}</p>{table}</div>')
        data[g.name] = {'results': len(g.results), 'not_ok': g.count('not ok'), 'skip': g.count('skip'),
                        'links': [href(p, out_dir) for _, p in g.links]}
    out.append('</div>')
    out.append(data_block('results', {'drawn': True, 'guests': data, 'notes': {}}))
    out.append('</section>')
    return out


def render(guests, plots, title, summary_lines, out_path):
    out_dir = os.path.dirname(os.path.abspath(out_path))
    head = summary_mod.header(guests, title)
    parts = ['<!DOCTYPE html>', '<html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             f'<title>{esc(head[0])}</title><style>{CSS}</style></head><body>',
             f'<h1>{esc(head[0])}</h1>', f'<p class="meta">{esc(head[1])}</p>']
    parts.extend(cards(guests, out_dir))
    parts.append('<details><summary>The terminal summary</summary><pre>'
                 + esc('\n'.join(summary_lines)) + '</pre></details>')
    for plot in plots:
        parts.extend(plot_section(plot, guests))
    parts.extend(results_section(guests, out_dir))
    sources = ', '.join(esc(os.path.basename(s)) for g in guests for s in g.sources)
    parts.append(f'<p class="meta">Built by scripts/report from {sources}.</p></body></html>')
    return '\n'.join(parts) + '\n'
