"""Reading boots: TAP streams and raw serial logs into one record per guest.

A LOG is either what scripts/boot prints on stdout (the guest's TAP stream)
or the serial log it keeps (Xen's own lines, the guest's lines among them,
CR LF endings, "(d0) " or "domu| " prefixes). Both carry the same TAP and
"# metric" lines; the serial log also says which Xen ran and how.
"""

import os
import re
from dataclasses import dataclass, field

# `ok 12 - area: text # SKIP why` and `not ok 3 - area: text`
RESULT = re.compile(r'^(not ok|ok)\b[ \t]*(\d*)[ \t]*(?:-[ \t]*)?(.*)$')
DIRECTIVE = re.compile(r'[ \t]#[ \t]*((?:SKIP|TODO)\b.*)$', re.IGNORECASE)
AREA = re.compile(r'^([A-Za-z0-9_+.-]+):[ \t]*(.*)$')
# `# metric <area>.<name>=<number>[<unit>] [vcpu=<id>] [<key>=<token>]...`
METRIC = re.compile(r'^# metric ([A-Za-z0-9_+-]+)\.([A-Za-z0-9_.-]+)='
                    r'(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)(\S*)'
                    r'((?:[ \t]+[a-z_]+=[A-Za-z0-9_.+-]+)*)[ \t]*$')
TAG = re.compile(r'([a-z_]+)=([A-Za-z0-9_.+-]+)')
PLAN = re.compile(r'^1\.\.(\d+)')
GUEST = re.compile(r'^# guest:[ \t]*(.+?)[ \t]*$')
XEN_SHORT = re.compile(r'^# xen:[ \t]*(\S+)')
TESTS = re.compile(r'^# tests:[ \t]*(.+?) with (\d+) vCPU\(s\) on Xen (\S+)')
# Xen's own lines in a serial log (they may follow terminal escapes).
XEN_VERSION = re.compile(r'\(XEN\) Xen version (\S+)(?: \((Debian [^)]*)\))?')
XEN_SCHED = re.compile(r'\(XEN\) Using scheduler: .*\((\w+)\)')
XEN_CPUS = re.compile(r'\(XEN\) Brought up (\d+) CPUs')
PREFIX = re.compile(r'^\(d\d+(?:v\d+)?\) ')
# scripts/boot's own lines (stderr, kept as NAME.err by scripts/demo).
BOOTING = re.compile(r'booting (.+?) on Xen (\S+): (\d+) vCPUs on (\d+) pCPUs, (\w+)')
QEMU_RAN = re.compile(r'QEMU ran ([\d.]+) s')


@dataclass
class Metric:
    area: str
    name: str
    value: float
    unit: str
    vcpu: int | None
    tags: dict


@dataclass
class Result:
    number: int | None
    ok: bool
    area: str
    text: str
    directive: str   # '' or 'SKIP ...' or 'TODO ...'
    line: str

    @property
    def verdict(self):
        """ok, not ok, skip or todo: what the result counts as."""
        kind = self.directive.split(None, 1)[0].upper() if self.directive else ''
        if kind == 'SKIP':
            return 'skip'
        if kind == 'TODO':
            return 'todo'
        return 'ok' if self.ok else 'not ok'


@dataclass
class Guest:
    name: str
    sources: list = field(default_factory=list)    # the LOG files read
    links: list = field(default_factory=list)      # (label, path) for the page
    results: list = field(default_factory=list)
    metrics: list = field(default_factory=list)
    plan: int | None = None
    bailed: str | None = None
    xen: str | None = None
    vcpus: int | None = None
    pcpus: int | None = None
    sched: str | None = None
    rc: int | None = None          # the harness's exit status, when saved
    qemu_s: float | None = None
    harness: list = field(default_factory=list)   # scripts/boot's complaints

    # -- metric look-ups ---------------------------------------------------
    def all(self, area, name):
        return [m for m in self.metrics if m.area == area and m.name == name]

    def scalar(self, area, name):
        """The last value of a metric without a vcpu tag, or None."""
        found = [m.value for m in self.all(area, name) if m.vcpu is None]
        return found[-1] if found else None

    def per_vcpu(self, area, name):
        """{vcpu: value} for a metric with a vcpu tag (the last one wins)."""
        return {m.vcpu: m.value for m in self.all(area, name) if m.vcpu is not None}

    # -- verdicts ------------------------------------------------------------
    def count(self, verdict):
        return sum(1 for r in self.results if r.verdict == verdict)

    @property
    def failed(self):
        return [r for r in self.results if r.verdict == 'not ok']

    @property
    def problems(self):
        """Why the stream itself is incomplete, as short phrases."""
        out = []
        if self.bailed is not None:
            out.append('bailed out' + (f': {self.bailed}' if self.bailed else ''))
        if self.plan is None and self.results:
            out.append('no plan (1..N): the guest stopped before its end')
        elif self.plan is not None and self.plan != len(self.results):
            out.append(f'plan 1..{self.plan} but {len(self.results)} results')
        if not self.results:
            out.append('no TAP results')
        return out

    @property
    def passed(self):
        if self.rc is not None:
            return self.rc == 0
        return not self.failed and not self.problems

    def areas(self):
        """The areas of the TAP results, in the order they first appear."""
        seen = []
        for r in self.results:
            if r.area not in seen:
                seen.append(r.area)
        return seen


def parse_result(line):
    m = RESULT.match(line)
    if not m:
        return None
    text = m.group(3).strip()
    directive = ''
    d = DIRECTIVE.search(text)
    if d:
        directive = d.group(1).strip()
        text = text[:d.start()].rstrip()
    a = AREA.match(text)
    area, text = (a.group(1), a.group(2)) if a else ('(other)', text)
    number = int(m.group(2)) if m.group(2) else None
    return Result(number, m.group(1) == 'ok', area, text, directive, line)


def parse_metric(line):
    m = METRIC.match(line)
    if not m:
        return None
    tags = dict(TAG.findall(m.group(5)))
    vcpu = tags.pop('vcpu', None)
    vcpu = int(vcpu) if vcpu is not None and vcpu.isdigit() else None
    return Metric(m.group(1), m.group(2), float(m.group(3)), m.group(4), vcpu, tags)


def guest_lines(path):
    """The guest's own lines of a LOG, and what Xen's lines say about the run.

    Applies the harness's serial filter: Xen's lines are read for the header
    and dropped, "(d0) "/"(d0v1) " and "domu| " prefixes are removed, and a
    Linux dom0's own "dom0| " lines are dropped.
    """
    xen = {}
    lines = []
    with open(path, errors='replace') as f:
        for raw in f:
            line = raw.rstrip('\r\n').rstrip('\r')
            if '(XEN)' in line:
                for key, rx in (('xen', XEN_VERSION), ('sched', XEN_SCHED), ('pcpus', XEN_CPUS)):
                    m = rx.search(line)
                    if m and key not in xen:
                        xen[key] = m.group(1)
                        if key == 'xen' and m.group(2):
                            xen[key] += f' ({m.group(2)})'
                continue
            if line.startswith('dom0| '):
                continue
            if line.startswith('domu| '):
                line = line[len('domu| '):]
            lines.append(PREFIX.sub('', line))
    return lines, xen


def sibling(path, ext):
    """NAME.ext beside NAME.tap (or None)."""
    stem, _ = os.path.splitext(path)
    other = stem + ext
    return other if other != path and os.path.isfile(other) else None


def read_boot(path, names):
    """The guests of one LOG. `names` holds the names taken already."""
    default = os.path.splitext(os.path.basename(path))[0]
    guests = [Guest(default, sources=[path])]
    current = guests[0]
    named = False     # did this LOG name its guest (# guest: / # tests:)?

    lines, xen = guest_lines(path)
    for line in lines:
        g = GUEST.match(line)
        t = TESTS.match(line)
        if g or (t and not named):
            name = g.group(1) if g else t.group(1)
            if not current.results and not current.metrics:
                current.name = name          # names the guest read so far
            elif g:                          # a second guest in this LOG
                current = Guest(name, sources=[path])
                guests.append(current)
            named = True
        if t:
            current.vcpus = int(t.group(2))
            current.xen = current.xen or t.group(3)
            continue
        if g:
            continue
        m = XEN_SHORT.match(line)
        if m:
            current.xen = m.group(1)
            continue
        metric = parse_metric(line)
        if metric:
            current.metrics.append(metric)
            continue
        result = parse_result(line)
        if result:
            current.results.append(result)
            continue
        m = PLAN.match(line)
        if m:
            current.plan = int(m.group(1))
            continue
        if line.startswith('Bail out!'):
            current.bailed = line[len('Bail out!'):].strip()
    guests = [g for g in guests if g.results or g.metrics or g is guests[0]]
    for g in guests:   # the same guest twice (two boots): "pv dom0 (2)"
        base, n = g.name, 2
        while g.name in names:
            g.name = f'{base} ({n})'
            n += 1
        names.add(g.name)

    # What else the harness left beside a TAP stream: the serial log (for
    # Xen's version and a link), its exit status and its stderr.
    log = sibling(path, '.log') if path.endswith('.tap') else None
    if log:
        _, xen_log = guest_lines(log)
        for k, v in xen_log.items():
            xen.setdefault(k, v)
    rc_file, err_file = sibling(path, '.rc'), sibling(path, '.err')
    for g in guests:
        if xen.get('xen') and (not g.xen or xen['xen'].startswith(g.xen)):
            g.xen = xen['xen']
        g.sched = g.sched or xen.get('sched')
        if xen.get('pcpus'):
            g.pcpus = int(xen['pcpus'])
        g.links.append(('serial log' if not path.endswith('.tap') else 'TAP stream', path))
        if log:
            g.links.append(('serial log', log))
    if len(guests) == 1:
        apply_harness_files(guests[0], rc_file, err_file)
    return guests


def apply_harness_files(g, rc_file, err_file):
    if rc_file:
        try:
            g.rc = int(open(rc_file).read().strip())
        except ValueError:
            pass
    if err_file:
        for line in open(err_file, errors='replace'):
            line = line.rstrip('\n')
            m = BOOTING.search(line)
            if m:
                g.vcpus = g.vcpus or int(m.group(3))
                g.pcpus = int(m.group(4))
                g.sched = g.sched or m.group(5)
            m = QEMU_RAN.search(line)
            if m:
                g.qemu_s = float(m.group(1))
            if line.startswith('scripts/boot:'):
                g.harness.append(line)


def read_boots(paths):
    """Every guest of every LOG, in order. A NAME.log given beside its
    NAME.tap is read once, as the .tap's serial log."""
    taps = {os.path.splitext(p)[0] for p in paths if p.endswith('.tap')}
    names = set()
    guests = []
    for p in paths:
        if p.endswith('.log') and os.path.splitext(p)[0] in taps:
            continue
        guests.extend(read_boot(p, names))
    return guests
