"""Human units, and the two or three figures that tell each scenario's story.

The terminal summary prints, per guest, one line per area of the TAP results
with its verdict and the figures TELLING names for that area; an area the
table does not know gets its first metrics (generic()).
"""

import statistics

# -- human units ------------------------------------------------------------


def sig(x, digits=3):
    """x with `digits` significant digits, no exponent, no trailing zeros;
    thousands separators on the integer part."""
    if x == 0:
        return '0'
    magnitude = len(str(int(abs(x)))) if abs(x) >= 1 else 0
    decimals = max(0, digits - magnitude)
    if abs(x) < 1:
        # 0.00123 -> 0.00123: count the zeros after the point
        s = f'{abs(x):.12f}'.split('.')[1]
        decimals = len(s) - len(s.lstrip('0')) + digits
    text = f'{x:,.{decimals}f}'
    if '.' in text:
        text = text.rstrip('0').rstrip('.')
    return text


def duration(ns):
    """A time in ns as ns, µs, ms or s."""
    for div, unit in ((1e9, 's'), (1e6, 'ms'), (1e3, 'µs')):
        if abs(ns) >= div:
            return f'{sig(ns / div)} {unit}'
    return f'{sig(ns)} ns'


def count(n):
    """A count with thousands separators (a fraction keeps 3 digits)."""
    return f'{int(n):,}' if float(n).is_integer() else sig(n)


def percent(p):
    return f'{p:.1f}%'


def as_ns(name, value, unit=''):
    """(base name, value in ns) for a metric named *_ns/*_us/*_ms, else None."""
    for suffix, scale in (('_ns', 1), ('_us', 1e3), ('_ms', 1e6)):
        if name.endswith(suffix) and not unit:
            return name[:-len(suffix)], value * scale
    if unit in ('ns', 'us', 'µs', 'ms', 's'):
        return name, value * {'ns': 1, 'us': 1e3, 'µs': 1e3, 'ms': 1e6, 's': 1e9}[unit]
    return None


def human(name, value, unit=''):
    """One metric's value in human units, with its name shortened."""
    t = as_ns(name, value, unit)
    if t:
        return t[0], duration(t[1])
    if unit == '%':
        return name, percent(value)
    return name, count(value) + (unit.replace('_', ' ') if unit else '')


# -- per-area figures ---------------------------------------------------------


def median(values):
    return statistics.median(values) if values else None


def steal_share(g):
    """{vcpu: steal % of the measured interval}, from the runstate times
    (more digits than steal.pct), else steal.pct."""
    parts = {s: g.per_vcpu('steal', f'{s}_ns') for s in ('running', 'runnable', 'blocked', 'offline')}
    stolen = g.per_vcpu('steal', 'ns')
    out = {}
    for v, ns in stolen.items():
        total = sum(parts[s].get(v, 0) for s in parts)
        if total > 0:
            out[v] = 100.0 * ns / total
    return out or g.per_vcpu('steal', 'pct')


def f_steal(g):
    share = steal_share(g)
    if not share:
        return None
    lo, hi = min(share.values()), max(share.values())
    text = f'steal {percent(median(share.values()))} median'
    return text + (f' ({percent(lo)}–{percent(hi)})' if hi - lo >= 1 else '')


def f_clock_reads(g):
    reads = g.per_vcpu('clock', 'reads')
    return f'{count(sum(reads.values()))} clock reads' if reads else None


def scalar_or_combined(g, area, name, per_vcpu_name, combine):
    """A guest-wide figure, else `combine` of its per-vCPU lines, else None."""
    value = g.scalar(area, name)
    if value is None:
        per = g.per_vcpu(area, per_vcpu_name)
        value = combine(per.values()) if per else None
    return value


def f_clock_backwards(g):
    back = scalar_or_combined(g, 'clock', 'backwards', 'backwards', sum)
    return None if back is None else f'{count(back)} backwards'


def f_timers_p99(g):
    p99 = g.scalar('timers', 'lateness_p99_us')
    return None if p99 is None else f'p99 late {duration(p99 * 1e3)}'


def f_timers_worst(g):
    worst = scalar_or_combined(g, 'timers', 'lateness_max_us', 'worst_late_us', max)
    return None if worst is None else f'worst {duration(worst * 1e3)}'


def f_timers_fired(g):
    fired, early, lost = (g.scalar('timers', n) for n in ('fired', 'early', 'lost'))
    if fired is None:
        return None
    extra = ', '.join(f'{count(v)} {n}' for n, v in (('early', early), ('lost', lost)) if v is not None)
    return f'{count(fired)} fired' + (f' ({extra})' if extra else '')


def f_bringup(g):
    total = g.scalar('smp', 'bringup_total_ns')
    if total is None:
        online = g.per_vcpu('smp', 'ap_online_ns')
        total = max(online.values()) if online else None
    return None if total is None else f'bring-up {duration(total)}'


def f_ap_median(g):
    per = g.per_vcpu('smp', 'ap_online_ns') or g.per_vcpu('smp', 'bringup_ns')
    return f'per AP {duration(median(per.values()))} median' if per else None


def f_online(g):
    n = g.scalar('smp', 'online')
    return None if n is None else f'{count(n)} online'


def f_hotplug_cycles(g):
    n = g.scalar('hotplug', 'cycles')
    if n is None:
        n = len(g.all('hotplug', 'cycle_offline_ns')) or None
    return None if n is None else f'{count(n)} cycles'


def hotplug_step(step):
    def f(g):
        per_cycle = [m.value for m in g.all('hotplug', f'cycle_{step}_ns')]
        if per_cycle:
            return f'{step} {duration(median(per_cycle))} median'
        v = g.scalar('hotplug', f'{step}_ns')
        return None if v is None else f'{step} {duration(v)}'
    return f


def scalar_figure(area, name, label, fmt=None):
    """A figure from one metric without a vcpu tag: label + value."""
    def f(g):
        v = g.scalar(area, name)
        if v is None:
            return None
        if fmt:
            return fmt(label, v)
        return f'{label} {human(name, v)[1]}'
    return f


def f_selftest(g):
    v = g.scalar('boot', 'xen_uptime_ns')
    return None if v is None else f'kernel entered {duration(v)} after Xen started'


# The deliberate choice per area: the figures a reader would ask for first.
TELLING = {
    'selftest': [f_selftest],
    'events': [scalar_figure('events', 'ipi_to_upcall_ns', 'IPI to upcall')],
    'vcpuop': [scalar_figure('vcpuop', 'vcpus', 'vCPUs', lambda l, v: f'{count(v)} {l}'),
               scalar_figure('vcpuop', 'periodic_ticks_55ms', 'periodic',
                             lambda l, v: f'{l} {count(v)} ticks in 55 ms')],
    'smp': [f_bringup, f_ap_median, f_online],
    'hotplug': [f_hotplug_cycles, hotplug_step('offline'), hotplug_step('online')],
    'steal': [f_steal, f_clock_reads, f_clock_backwards],
    'timers': [f_timers_p99, f_timers_worst, f_timers_fired],
    'timers+hotplug': [scalar_figure('timers', 'hotplug_max_late_us', 'late',
                                     lambda l, v: f'down vCPU\'s timers ≤ {duration(v * 1e3)} {l}'),
                       scalar_figure('timers', 'adopted', 'adopted', lambda l, v: f'{count(v)} {l}')],
}

# Metric areas whose figures an entry above shows (no line of their own).
SHOWN_ELSEWHERE = {'boot', 'clock', 'tsc'}


def generic(g, area, limit=3):
    """The first metrics of an area: a value, or a median over vCPUs."""
    seen = []
    for m in g.metrics:
        if m.area == area and m.name not in seen:
            seen.append(m.name)
    out = []
    for name in seen[:limit]:
        ms = g.all(area, name)
        per = [m for m in ms if m.vcpu is not None]
        if per:
            label, text = human(name, median([m.value for m in per]), per[0].unit)
            out.append(f'{label} {text} median of {len(per)}')
        else:
            label, text = human(name, ms[-1].value, ms[-1].unit)
            out.append(f'{label} {text}')
    return out


def telling(g, area):
    """The figures of one area for the summary line."""
    if area in TELLING:
        found = [f(g) for f in TELLING[area]]
        found = [f for f in found if f]
        if found:
            return found[:3]
    return generic(g, area)
