"""The terminal summary: a header, per guest one line per area with its
verdict and telling figures, failures spelled out, and where the report is.
Sized for one screen: about 12 lines per guest."""

from . import figures

WIDTH = 118            # longest line before it is cut with an ellipsis
MAX_FAILURES = 6       # per guest; the rest are counted, the page has them all


def cut(text, width=WIDTH):
    return text if len(text) <= width else text[:width - 1] + '…'


def distinct(values):
    return sorted({v for v in values if v is not None}, key=str)


def header(guests, title):
    lines = [title or 'xenvcpu report: ' + ', '.join(g.name for g in guests)]
    xen = distinct(g.xen for g in guests)
    # "4.17" from a TAP stream and "4.17.7 (Debian ...)" from a log: one Xen.
    xen = [x for x in xen if not any(o != x and o.startswith(x) for o in xen)]
    parts = ['Xen ' + ' / '.join(xen)] if xen else ['Xen version not in the log']
    sched = distinct(g.sched for g in guests)
    if sched:
        parts.append('scheduler ' + ' / '.join(sched))
    vcpus, pcpus = distinct(g.vcpus for g in guests), distinct(g.pcpus for g in guests)
    if len(vcpus) == 1:
        parts.append(f'{vcpus[0]} vCPUs' + (f' on {pcpus[0]} pCPUs' if len(pcpus) == 1 else ''))
    lines.append(', '.join(parts))
    return lines


def area_verdict(results):
    ok = sum(1 for r in results if r.verdict in ('ok', 'todo'))
    bad = sum(1 for r in results if r.verdict == 'not ok')
    skip = sum(1 for r in results if r.verdict == 'skip')
    judged = ok + bad
    # 'FAIL 1/4 not ok': the failures first, and never read as '1 of 4 passed'.
    text = f'FAIL {bad}/{judged} not ok' if bad else f'ok {ok}/{judged}'
    return text + (f', {skip} skip' if skip else '')


def display_name(g):
    """'pv dom0' -> 'PV dom0': the guest type stands out."""
    first, _, rest = g.name.partition(' ')
    return f'{first.upper()} {rest}'.rstrip()


def guest_lines(g):
    total = len(g.results)
    head = (f'{display_name(g)}: {"PASS" if g.passed else "FAIL"}, {g.count("ok") + g.count("todo")} ok, '
            f'{g.count("not ok")} not ok, {g.count("skip")} skipped of {total}')
    if g.qemu_s is not None:
        head += f'; QEMU ran {g.qemu_s:g} s'
    lines = [head]
    areas = g.areas()
    extra = [a for a in dict.fromkeys(m.area for m in g.metrics)
             if a not in areas and a not in figures.SHOWN_ELSEWHERE]
    width = max([len(a) for a in areas + extra] + [8])
    shown = 0
    for area in areas + extra:
        results = [r for r in g.results if r.area == area]
        verdict = area_verdict(results) if results else 'figures'
        figs = ', '.join(figures.telling(g, area))
        lines.append(cut(f'  {area:<{width}}  {verdict:<16} {figs}'.rstrip()))
        for r in results:
            if r.verdict != 'not ok':
                continue
            shown += 1
            if shown <= MAX_FAILURES:
                lines.append(cut(f'  {"":<{width}}  not ok {r.number or ""} - {r.text}'))
    if shown > MAX_FAILURES:
        lines.append(f'  … and {shown - MAX_FAILURES} more not ok (all are in the report)')
    for p in g.problems:
        lines.append(f'  stream: {p}')
    if not g.passed:
        lines.extend(cut('  ' + h) for h in g.harness[:3])
    return lines


def summary(guests, title=None, report=None, report_bytes=None, logs=None):
    lines = header(guests, title)
    for g in guests:
        lines.append('')
        lines.extend(guest_lines(g))
    lines.append('')
    if report:
        size = f' ({figures.count(round(report_bytes / 1024))} KiB)' if report_bytes else ''
        lines.append(f'Full report: {report}{size}')
    if logs:
        lines.append(f'Serial logs and TAP streams: {logs}')
    return lines
