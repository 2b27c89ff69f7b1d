"""The matrix table, as markdown and as one self-contained HTML page: per
cell its machine, verdict and key figures, read from the cell's TAP metric
lines with scripts/report's reader (xvreport)."""

import html
import os
import time
from urllib.parse import quote

from xvreport import figures, tap

from . import store

COLUMNS = ('cell', 'machine', 'verdict', 'results', 'bring-up', 'steal median', 'timer p99 late',
           'clock reads / backwards', 'QEMU', 'cell wall')
LABEL = {store.PASS: 'pass', store.FAIL: 'FAIL', store.TIMEOUT: 'TIMEOUT', store.ERROR: 'ERROR',
         store.UNAVAILABLE: 'not available yet', store.INVALID: 'not valid on Xen', store.NOT_RUN: 'not run'}


def key_figures(results_dir, cell):
    """{column: text} from the cell's boot.tap (and its siblings)."""
    path = os.path.join(store.cell_dir(results_dir, cell), 'boot.tap')
    if not os.path.isfile(path):
        return {}
    g = tap.read_boot(path, set())[0]
    out = {}
    if g.results or g.plan is not None:
        passed = g.count('ok') + g.count('todo')
        plan = g.plan if g.plan is not None else '?'
        out['results'] = f'{passed}/{plan}'
        if g.count('skip'):
            out['results'] += f' ({g.count("skip")} skip)'
    bringup = g.scalar('smp', 'bringup_total_ns')
    if bringup is None:
        online = g.per_vcpu('smp', 'ap_online_ns')
        bringup = max(online.values()) if online else None
    if bringup is not None:
        out['bring-up'] = figures.duration(bringup)
    share = figures.steal_share(g)
    if share:
        out['steal median'] = figures.percent(figures.median(list(share.values())))
    p99 = g.scalar('timers', 'lateness_p99_us')
    if p99 is not None:
        out['timer p99 late'] = figures.duration(p99 * 1e3)
    reads = g.per_vcpu('clock', 'reads')
    back = figures.scalar_or_combined(g, 'clock', 'backwards', 'backwards', sum)
    if reads or back is not None:
        out['clock reads / backwards'] = (f'{figures.count(sum(reads.values())) if reads else "?"} / '
                                          f'{figures.count(back) if back is not None else "?"}')
    if g.qemu_s is not None:
        out['QEMU'] = f'{g.qemu_s:g} s'
    return out


def rows(results_dir, picked):
    """One dict per cell: its columns, status, and the line that failed it."""
    out = []
    for cell, invalid in picked:
        r = store.load(results_dir, cell)
        status = r['status'] if r else (store.INVALID if invalid else store.NOT_RUN)
        row = {'cell': cell.name, 'machine': cell.machine, 'status': status, 'verdict': LABEL[status],
               'note': invalid or (r or {}).get('note', ''),
               'complaint': store.complaint(results_dir, cell, status) if r else '',
               'dir': store.cell_dir(results_dir, cell), 'ran': bool(r), 'wall': (r or {}).get('wall_s')}
        if r:
            row.update(key_figures(results_dir, cell))
            row['cell wall'] = f'{r["wall_s"]:g} s'
            row['started'] = r.get('started', '')
        out.append(row)
    return out


def tally(table):
    counts = {}
    for row in table:
        counts[row['verdict']] = counts.get(row['verdict'], 0) + 1
    order = [LABEL[s] for s in (store.PASS, store.FAIL, store.TIMEOUT, store.ERROR, store.UNAVAILABLE,
                                store.NOT_RUN, store.INVALID)]
    return ', '.join(f'{counts[v]} {v}' for v in order if v in counts)


def wall_total(table):
    return sum(row['wall'] for row in table if row.get('wall'))


def md_cell(text):
    return str(text).replace('|', '\\|').replace('\n', ' ')


def markdown(table, title):
    lines = [f'# {title}', '',
             f'{len(table)} cells: {tally(table)}. Boot wall time of the cells that ran: '
             f'{wall_total(table) / 60:.1f} min. Written {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}.',
             '', '| ' + ' | '.join(COLUMNS) + ' |', '|' + '---|' * len(COLUMNS)]
    for row in table:
        lines.append('| ' + ' | '.join(md_cell(row.get(c, '')) for c in COLUMNS) + ' |')
    notes = [row for row in table if row['complaint'] or row['note']]
    if notes:
        lines += ['', '## Why', '']
        for row in notes:
            why = '; '.join(t for t in (row['complaint'], row['note']) if t)
            lines.append(f'- `{row["cell"]}` ({row["verdict"]}): {md_cell(why)}')
    return '\n'.join(lines) + '\n'


CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 1.5em auto; max-width: 1400px; padding: 0 1em;
       color: #212529; }
h1 { font-size: 1.4em; }
table { border-collapse: collapse; font-size: 13px; }
th, td { text-align: left; vertical-align: top; padding: 2px 8px; border-bottom: 1px solid #e9ecef; }
th { background: #f8f9fa; position: sticky; top: 0; }
td.num { text-align: right; white-space: nowrap; }
tr.pass td.v { color: #2b8a3e; font-weight: 600; }
tr.fail td, tr.timeout td, tr.error td { background: #fff5f5; }
tr.fail td.v, tr.timeout td.v, tr.error td.v { color: #c92a2a; font-weight: 600; }
tr.unavailable td, tr.invalid td, tr.notrun td { color: #868e96; }
td.why { color: #495057; max-width: 40em; }
a { color: inherit; }
"""
NUMERIC = {'results', 'bring-up', 'steal median', 'timer p99 late', 'clock reads / backwards', 'QEMU',
           'cell wall'}


def esc(text):
    return html.escape(str(text), quote=True)


def page(table, title, out_dir):
    head = ''.join(f'<th>{esc(c)}</th>' for c in COLUMNS) + '<th>why</th>'
    body = []
    for row in table:
        cls = row['status'].replace(' ', '')
        tds = []
        for c in COLUMNS:
            text = esc(row.get(c, ''))
            if c == 'cell' and row['ran']:
                link = quote(os.path.relpath(os.path.join(row['dir'], 'boot.log'), out_dir))
                text = f'<a href="{link}">{text}</a>'
            kind = ' class="num"' if c in NUMERIC else (' class="v"' if c == 'verdict' else '')
            tds.append(f'<td{kind}>{text}</td>')
        why = '; '.join(t for t in (row['complaint'], row['note']) if t)
        tds.append(f'<td class="why">{esc(why)}</td>')
        body.append(f'<tr class="{cls}">' + ''.join(tds) + '</tr>')
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<title>{esc(title)}</title><style>{CSS}</style></head><body>\n'
            f'<h1>{esc(title)}</h1>\n<p>{len(table)} cells: {esc(tally(table))}. Boot wall time of the cells '
            f'that ran: {wall_total(table) / 60:.1f} min. Written '
            f'{esc(time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()))}. A cell\'s name links to its serial '
            'log; docs/matrix.md says what each column means.</p>\n'
            f'<table><thead><tr>{head}</tr></thead><tbody>\n' + '\n'.join(body) +
            '\n</tbody></table>\n</body></html>\n')


def write(results_dir, picked, title='xenvcpu matrix'):
    """Writes RESULTS/matrix.md and RESULTS/matrix.html; returns the rows."""
    table = rows(results_dir, picked)
    os.makedirs(results_dir, exist_ok=True)
    for name, text in (('matrix.md', markdown(table, title)),
                       ('matrix.html', page(table, title, os.path.abspath(results_dir)))):
        tmp = os.path.join(results_dir, name + '.tmp')
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, os.path.join(results_dir, name))
    return table
