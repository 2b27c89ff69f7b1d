"""The report's plots: one function per plot, one column per guest.

Each plot function takes the guests and returns a Plot: the inline SVG (or
None when no guest has the data), a caption, a note per guest where its data
is missing or a fallback was drawn, and `data`, a small machine-readable
summary of what was drawn per guest (the page embeds it as JSON; the report
test reads it).
"""

import io
import math
from dataclasses import dataclass, field

import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt            # noqa: E402 (after the backend)
from matplotlib.ticker import FuncFormatter, MaxNLocator  # noqa: E402

from . import figures                        # noqa: E402

NO_DATA = 'no data in this log'
STATES = (('running', '#2f9e44'), ('runnable', '#f76707'), ('blocked', '#74c0fc'), ('offline', '#adb5bd'))
# The lateness buckets' upper bounds in µs (the metric contract); inf last.
BOUNDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000, math.inf)
COLUMN_WIDTH = 5.2    # inches per guest
plt.rcParams.update({
    'svg.fonttype': 'none',        # text stays text: small, selectable
    'font.size': 9,
    'axes.spines.top': False,
    'axes.spines.right': False,
    'axes.titlesize': 10,
    'legend.fontsize': 8,
    'legend.frameon': False,
})


@dataclass
class Plot:
    key: str
    title: str
    caption: str
    svg: str | None = None
    notes: dict = field(default_factory=dict)   # guest name -> text
    data: dict = field(default_factory=dict)    # guest name -> summary


def thousands(x, _pos=None):
    return figures.count(round(x)) if abs(x) >= 1 else figures.sig(x, 2)


def columns(guests, height=3.0, sharey=False):
    fig, axes = plt.subplots(1, len(guests), figsize=(COLUMN_WIDTH * len(guests), height),
                             sharey=sharey, squeeze=False, layout='constrained')
    axes = list(axes[0])
    for ax, g in zip(axes, guests):
        ax.set_title(g.name)
    return fig, axes


def no_data(ax, text=NO_DATA):
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha='center', va='center', transform=ax.transAxes, color='#868e96')


def to_svg(fig, key):
    # A salt per figure keeps the SVG's internal ids apart when several
    # figures share one HTML page, and makes the output reproducible.
    plt.rcParams['svg.hashsalt'] = key
    buf = io.StringIO()
    fig.savefig(buf, format='svg', metadata={'Date': None, 'Creator': None})
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index('<svg'):]            # drop the XML prolog and doctype


def finish(plot, fig, axes, guests, has):
    """Mark the guests without data, or drop the figure if none has any."""
    for ax, g in zip(axes, guests):
        if not has(g):
            no_data(ax)
            plot.notes.setdefault(g.name, NO_DATA)
    if any(has(g) for g in guests):
        plot.svg = to_svg(fig, plot.key)
    else:
        plt.close(fig)
    return plot


def legend_below(ax, ncols=4):
    """The legend under the panel, where it hides no bar."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc='upper center', bbox_to_anchor=(0.5, -0.22), ncols=ncols)


MANY = 16   # more vCPUs than this: thin out labels, no per-vCPU legend


def vcpu_axis(ax, vcpus):
    step = math.ceil(len(vcpus) / MANY)
    ticks = range(0, len(vcpus), step)
    ax.set_xticks(ticks, [str(vcpus[i]) for i in ticks])
    ax.set_xlabel('vCPU')


# -- runstate -----------------------------------------------------------------


def runstate(guests):
    """Per-vCPU stacked bars of the steal scenario's runstate times."""
    plot = Plot('runstate', 'Where each vCPU\'s time went',
                'Per vCPU, the steal scenario\'s measured interval split by Xen\'s runstate: '
                'running, runnable (waiting for a pCPU: stolen), blocked, offline. '
                'The figure above each bar is its steal share. From steal.*_ns vcpu=N.')
    fig, axes = columns(guests, sharey=True)
    for ax, g in zip(axes, guests):
        parts = {s: g.per_vcpu('steal', f'{s}_ns') for s, _ in STATES}
        vcpus = sorted(set().union(*parts.values()))
        plot.data[g.name] = {'vcpus': len(vcpus)}
        if not vcpus:
            continue
        bottom = [0.0] * len(vcpus)
        for state, colour in STATES:
            ms = [parts[state].get(v, 0) / 1e6 for v in vcpus]
            ax.bar(range(len(vcpus)), ms, bottom=bottom, color=colour, label=state, width=0.6)
            bottom = [b + m for b, m in zip(bottom, ms)]
        share = figures.steal_share(g)
        for i, v in enumerate(vcpus if len(vcpus) <= MANY else []):
            if v in share:
                ax.text(i, bottom[i], f'{share[v]:.1f}%', ha='center', va='bottom', fontsize=8)
        vcpu_axis(ax, vcpus)
        ax.set_ylabel('ms')
        legend_below(ax)
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.margins(y=0.12)
    return finish(plot, fig, axes, guests, lambda g: plot.data[g.name]['vcpus'] > 0)


# -- timer lateness -------------------------------------------------------------


def bucket_label(bound):
    if bound == math.inf:
        return '>100 ms'
    return figures.duration(bound * 1e3).replace(' ', '\u2009')


def lateness_buckets(g):
    """{vcpu: {bound_us: count}} from timers.lateness_bucket."""
    out = {}
    for m in g.all('timers', 'lateness_bucket'):
        le = m.tags.get('le_us')
        if m.vcpu is None or le is None:
            continue
        bound = math.inf if le == 'inf' else float(le)
        out.setdefault(m.vcpu, {})[bound] = m.value
    return out


def lateness(guests):
    """Timer lateness per vCPU: the bucket distribution as a cumulative
    share, else the p50/p99/worst figures per vCPU."""
    plot = Plot('lateness', 'How late timers fired, per vCPU',
                'The timers scenario\'s expiries by lateness (fired minus due; early counts as 0): '
                'the share of a vCPU\'s expiries at most this late, from timers.lateness_bucket. '
                'Without buckets: p50, p99 and worst per vCPU (timers.lateness_p50_us, '
                'lateness_p99_us, worst_late_us).')
    data = {g.name: lateness_buckets(g) for g in guests}
    used = sorted({b for d in data.values() for per in d.values() for b, c in per.items() if c})
    lo = BOUNDS.index(used[0]) if used and used[0] in BOUNDS else 0
    hi = BOUNDS.index(used[-1]) if used and used[-1] in BOUNDS else len(BOUNDS) - 1
    shown = BOUNDS[max(0, lo - 1):hi + 1]
    fig, axes = columns(guests)
    for ax, g in zip(axes, guests):
        per = data[g.name]
        if per:
            plot.data[g.name] = {'source': 'buckets', 'vcpus': len(per),
                                 'buckets_per_vcpu': {str(v): len(b) for v, b in sorted(per.items())},
                                 'expiries': int(sum(sum(b.values()) for b in per.values()))}
            for v, buckets in sorted(per.items()):
                total = sum(buckets.values()) or 1
                running, ys = 0, []
                for b in BOUNDS:
                    running += buckets.get(b, 0)
                    if b in shown:
                        ys.append(100.0 * running / total)
                ax.step(range(len(shown)), ys, where='mid', marker='o', markersize=3,
                        label=f'vCPU {v}' if len(per) <= MANY else None)
            ax.set_xticks(range(len(shown)), [bucket_label(b) for b in shown], rotation=45, ha='right')
            ax.set_xlabel('at most this late')
            ax.set_ylabel('% of the vCPU\'s expiries')
            ax.set_ylim(0, 102)
            if len(per) <= MANY:
                ax.legend(loc='lower right')   # a cumulative share leaves it empty
            continue
        fallback_percentiles(ax, g, plot)
    return finish(plot, fig, axes, guests, lambda g: plot.data[g.name]['source'] != 'none')


def fallback_percentiles(ax, g, plot):
    series = [('p50', g.per_vcpu('timers', 'lateness_p50_us')),
              ('p99', g.per_vcpu('timers', 'lateness_p99_us')),
              ('worst', g.per_vcpu('timers', 'worst_late_us'))]
    vcpus = sorted(set().union(*(s for _, s in series)))
    if not vcpus:
        plot.data[g.name] = {'source': 'none', 'vcpus': 0}
        return
    plot.data[g.name] = {'source': 'percentiles', 'vcpus': len(vcpus)}
    plot.notes[g.name] = 'no lateness buckets in this log: p50, p99 and worst per vCPU instead'
    width = 0.8 / len(series)
    for i, (label, values) in enumerate(series):
        xs = [j + (i - 1) * width for j in range(len(vcpus))]
        ax.bar(xs, [max(values.get(v, 0), 0.5) for v in vcpus], width=width, label=label)
    ax.set_yscale('log')
    ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _p: figures.duration(y * 1e3)))
    vcpu_axis(ax, vcpus)
    ax.set_ylabel('late by')
    legend_below(ax, 3)


# -- bring-up -------------------------------------------------------------------


SEGMENTS = (('prepare', 'ap_prepare_begin_ns', 'ap_prepare_end_ns', '#adb5bd'),
            ('start', 'ap_prepare_end_ns', 'ap_up_ns', '#4dabf7'),
            ('coming online', 'ap_up_ns', 'ap_online_ns', '#2f9e44'))


def bringup(guests):
    """Per AP: prepare, start (until VCPUOP_up returned) and coming online,
    on one time axis from the start of the bring-up call."""
    plot = Plot('bringup', 'SMP bring-up timeline, per AP',
                'Per AP, from the start of the bring-up call: preparing its context (smp.ap_prepare_begin_ns '
                'to ap_prepare_end_ns), starting it (to the return of VCPUOP_up, ap_up_ns), and until the '
                'boot vCPU saw it online (ap_online_ns). Without these: smp.bringup_ns per AP.')
    most = max([len(g.per_vcpu('smp', 'ap_online_ns') or g.per_vcpu('smp', 'bringup_ns')) for g in guests] + [0])
    fig, axes = columns(guests, height=max(3.0, 1.2 + 0.22 * most))
    for ax, g in zip(axes, guests):
        marks = {name: g.per_vcpu('smp', name) for name in
                 ('ap_prepare_begin_ns', 'ap_prepare_end_ns', 'ap_up_ns', 'ap_online_ns')}
        aps = sorted(set().union(*marks.values()))
        if aps:
            plot.data[g.name] = {'source': 'timeline', 'aps': len(aps),
                                 'events': sum(len(m) for m in marks.values())}
            for row, ap in enumerate(aps):
                for label, begin, end, colour in SEGMENTS:
                    if ap in marks[begin] and ap in marks[end]:
                        t0, t1 = marks[begin][ap] / 1e6, marks[end][ap] / 1e6
                        ax.barh(row, max(t1 - t0, 0), left=t0, height=0.6, color=colour,
                                label=label if row == 0 else None)
                if ap in marks['ap_online_ns']:
                    ax.plot(marks['ap_online_ns'][ap] / 1e6, row, marker='|', color='black', markersize=10)
            ax.set_yticks(range(len(aps)), [f'vCPU {a}' for a in aps])
            ax.invert_yaxis()
            ax.set_xlim(left=0)
            ax.set_xlabel('ms since the bring-up call began')
            legend_below(ax, 3)
            continue
        per = g.per_vcpu('smp', 'bringup_ns')
        if per:
            aps = sorted(per)
            plot.data[g.name] = {'source': 'bringup_ns', 'aps': len(aps)}
            plot.notes[g.name] = 'no per-AP timeline in this log: bring-up time per AP instead'
            ax.barh(range(len(aps)), [per[a] / 1e6 for a in aps], height=0.6, color='#2f9e44')
            ax.set_yticks(range(len(aps)), [f'vCPU {a}' for a in aps])
            ax.invert_yaxis()
            ax.set_xlabel('ms to bring up (smp.bringup_ns)')
            continue
        plot.data[g.name] = {'source': 'none', 'aps': 0}
    return finish(plot, fig, axes, guests, lambda g: plot.data[g.name]['aps'] > 0)


# -- clock ----------------------------------------------------------------------


def clock(guests):
    """Clock reads per vCPU, with each vCPU's backwards count above its bar."""
    plot = Plot('clock', 'Clock reads and backwards steps, per vCPU',
                'Per vCPU, how often the steal scenario read the system clock (clock.reads vcpu=N), '
                'and above each bar how many readings went backwards on that vCPU or against another '
                '(clock.backwards vcpu=N; without it, the aggregate in the panel title). '
                'Each panel has its own scale.')
    fig, axes = columns(guests)
    for ax, g in zip(axes, guests):
        reads = g.per_vcpu('clock', 'reads')
        back = g.per_vcpu('clock', 'backwards')
        total_back = g.scalar('clock', 'backwards')
        vcpus = sorted(set(reads) | set(back))
        plot.data[g.name] = {'vcpus': len(reads), 'backwards_per_vcpu': len(back)}
        if not vcpus:
            continue
        ax.bar(range(len(vcpus)), [reads.get(v, 0) for v in vcpus], width=0.6, color='#4dabf7')
        for i, v in enumerate(vcpus):
            if v in back:
                colour = '#e03131' if back[v] else '#495057'
                ax.text(i, reads.get(v, 0), f'{figures.count(back[v])} back', ha='center', va='bottom',
                        fontsize=8, color=colour)
        if not back:
            plot.notes[g.name] = 'no per-vCPU backwards count in this log'
            if total_back is not None:
                ax.set_title(f'{g.name}: {figures.count(total_back)} backwards on all vCPUs')
        vcpu_axis(ax, vcpus)
        ax.set_ylabel('clock reads')
        ax.yaxis.set_major_formatter(FuncFormatter(thousands))
        ax.margins(y=0.12)
    return finish(plot, fig, axes, guests, lambda g: plot.data[g.name]['vcpus'] > 0)


# -- hotplug --------------------------------------------------------------------


def hotplug(guests):
    """Per offline/online cycle, the time each step took, per AP."""
    plot = Plot('hotplug', 'Hotplug cycle times',
                'Each offline/online cycle of the hotplug scenario: how long taking the AP offline '
                '(▼, hotplug.cycle_offline_ns) and bringing it back (▲, cycle_online_ns) took, '
                'one colour per AP. Without per-cycle lines: the aggregate hotplug.offline_ns '
                'and online_ns.')
    fig, axes = columns(guests, sharey=True)
    colours = plt.rcParams['axes.prop_cycle'].by_key()['color']
    # One scale for every panel: logarithmic when the times span decades.
    values = [m.value for g in guests for s in ('offline', 'online')
              for m in g.all('hotplug', f'cycle_{s}_ns') + g.all('hotplug', f'{s}_ns') if m.value > 0]
    log = bool(values) and max(values) / min(values) > 50
    for ax, g in zip(axes, guests):
        steps = {s: g.all('hotplug', f'cycle_{s}_ns') for s in ('offline', 'online')}
        if any(steps.values()):
            vcpus = sorted({m.vcpu for ms in steps.values() for m in ms if m.vcpu is not None})
            plot.data[g.name] = {'source': 'cycles', 'cycles': len(steps['offline']),
                                 'onlines': len(steps['online']), 'vcpus': len(vcpus)}
            spread = 0.5 / max(len(vcpus), 1)     # the APs of one cycle side by side
            for step, marker in (('offline', 'v'), ('online', '^')):
                for i, v in enumerate(vcpus):
                    ms = [m for m in steps[step] if m.vcpu == v]
                    cyc = [float(m.tags.get('cycle', n + 1)) + (i - (len(vcpus) - 1) / 2) * spread
                           for n, m in enumerate(ms)]
                    ax.plot(cyc, [m.value / 1e3 for m in ms], marker, color=colours[i % len(colours)],
                            markersize=4, linestyle='none',
                            label=f'vCPU {v}' if step == 'offline' and len(vcpus) <= MANY else None)
            for label, marker in (('offline', 'v'), ('online', '^')):
                ax.plot([], [], marker, color='black', markersize=4, linestyle='none', label=label)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel('cycle')
            ax.set_ylabel('µs')
            if log:
                ax.set_yscale('log')
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            legend_below(ax, 6)
            continue
        agg = [(s, g.scalar('hotplug', f'{s}_ns')) for s in ('offline', 'online')]
        agg = [(s, v) for s, v in agg if v is not None]
        if agg:
            plot.data[g.name] = {'source': 'aggregate', 'cycles': 0, 'vcpus': 0}
            n = g.scalar('hotplug', 'cycles')
            plot.notes[g.name] = 'no per-cycle times in this log: the aggregate figures instead'
            ax.bar([s for s, _ in agg], [v / 1e3 for _, v in agg], width=0.5, color=['#f76707', '#2f9e44'])
            for i, (_, v) in enumerate(agg):
                ax.text(i, v / 1e3, figures.duration(v), ha='center', va='bottom', fontsize=8)
            ax.set_ylabel('µs (hotplug.offline_ns, online_ns)')
            if log:
                ax.set_yscale('log')
            ax.yaxis.set_major_formatter(FuncFormatter(thousands))
            if n is not None:
                ax.set_title(f'{g.name}: {figures.count(n)} cycles')
            ax.margins(y=0.12)
            continue
        plot.data[g.name] = {'source': 'none', 'cycles': 0, 'vcpus': 0}
    return finish(plot, fig, axes, guests, lambda g: plot.data[g.name]['source'] != 'none')


ALL = (runstate, lateness, bringup, clock, hotplug)
