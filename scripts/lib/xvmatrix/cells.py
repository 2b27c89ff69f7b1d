"""The cells of the matrix: the axes, the machine each cell gets, which
cells Xen cannot run, and each cell's timeout. docs/matrix.md explains every
choice; this file is the one place that makes it.
"""

import math
import os
import re
from dataclasses import dataclass

XEN = ('4.17', '4.20')
MODES = ('pv', 'pvh')
WHERE = ('dom0', 'domu')
SCHEDS = ('credit2', 'credit', 'null', 'rtds')
VCPUS = ('1', '8', '64', 'max')
OVERCOMMIT = ('light', 'heavy')

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))


def _limits():
    """The largest vCPU count each guest type allows ('max' on the vCPU
    axis), from scripts/lib/vcpu-limits.sh, the one place scripts/boot
    takes them from too: PV as far as the minikernel can be built
    (-Dmax_vcpus), PVH capped by Xen at HVM_MAX_VCPUS = 128."""
    found = {}
    with open(os.path.join(ROOT, 'scripts', 'lib', 'vcpu-limits.sh')) as f:
        for line in f:
            m = re.match(r'xv_max_vcpus_(pv|pvh)=(\d+)\s*$', line)
            if m:
                found[m.group(1)] = int(m.group(2))
    return found


LARGEST = _limits()

# The machine QEMU emulates (-smp): TCG pays for every pCPU when Xen boots
# (1.3 s with 1 pCPU, 2.7 s with 8, 6.2 s with 16, 16.6 s with 32, measured
# with tests=selftest on the 2-core host), so 'light' stops at 16.
LIGHT_MAX_PCPUS = 16
# The Linux dom0 of a domU cell runs on one vCPU (scripts/boot --domu).
DOMU_DOM0_VCPUS = 1


def light_pcpus(vcpus, where):
    """About 2 vCPUs per pCPU (1 vCPU: its own pCPU), plus a pCPU for the
    Linux dom0 of a domU cell, at most LIGHT_MAX_PCPUS."""
    extra = DOMU_DOM0_VCPUS if where == 'domu' else 0
    return min(math.ceil(vcpus / 2) + extra, LIGHT_MAX_PCPUS)


def heavy_pcpus(vcpus, where):
    """vCPUs >> pCPUs: 1 pCPU for up to 8 vCPUs, else 2 (this host's cores;
    64 on 2 is the issue's own failing example)."""
    return 1 if vcpus <= 8 else 2


PCPUS = {'light': light_pcpus, 'heavy': heavy_pcpus}

# Each cell's timeout: scripts/boot --timeout, seconds of QEMU. Generous: a
# default run took 16 s for 8 vCPUs on 4 pCPUs and 21 s for 64 on 2 (PV dom0,
# Xen 4.17, credit2); the timeout only stops a hung guest.
TIMEOUT_BASE = {'dom0': 300, 'domu': 420}
TIMEOUT_PER_VCPU = 4


@dataclass(frozen=True)
class Cell:
    xen: str
    mode: str
    where: str
    sched: str
    vcpus: int
    vcpus_axis: str     # the axis value that chose it: '1', '8', '64' or 'max'
    overcommit: str
    pcpus: int

    @property
    def name(self):
        return f'xen{self.xen}-{self.mode}-{self.where}-{self.sched}-v{self.vcpus}-{self.overcommit}'

    @property
    def domain_vcpus(self):
        """Every vCPU the machine carries: the guest's, and a domU's dom0."""
        return self.vcpus + (DOMU_DOM0_VCPUS if self.where == 'domu' else 0)

    @property
    def ratio(self):
        return self.domain_vcpus / self.pcpus

    @property
    def machine(self):
        """'64 on 2 (32:1)': the guest's vCPUs, the pCPUs, vCPUs per pCPU."""
        dom0 = ' + dom0' if self.where == 'domu' else ''
        return f'{self.vcpus}{dom0} on {self.pcpus} ({self.ratio:.3g}:1)'

    @property
    def timeout(self):
        return TIMEOUT_BASE[self.where] + TIMEOUT_PER_VCPU * self.vcpus

    def boot_args(self):
        """scripts/boot's arguments for this cell (no --log, no --kernel)."""
        args = ['--mode', self.mode, '--xen', self.xen, '--vcpus', str(self.vcpus),
                '--pcpus', str(self.pcpus), '--sched', self.sched, '--timeout', str(self.timeout)]
        return (['--domu'] if self.where == 'domu' else []) + args


@dataclass(frozen=True)
class Rule:
    """A kind of cell Xen cannot run as the matrix asks: it is listed and
    tabled with its reason but not booted (unless --include-invalid)."""
    name: str
    applies: object     # Cell -> bool
    reason: object      # Cell -> str


def sched_built(xen, sched):
    """Whether Debian's build of this Xen has the scheduler (its
    /boot/xen-*.config, unpacked by scripts/boot into .cache/). Debian
    builds credit and credit2 only; asked for another, Xen runs credit2, so
    scripts/boot refuses it. True when the config is not there yet, and
    with a stand-in QEMU (XENVCPU_QEMU), which boots no Xen and which
    scripts/boot then does not check either."""
    if os.environ.get('XENVCPU_QEMU'):
        return True
    root = 'bookworm-root' if xen == '4.17' else 'trixie-root'
    config = os.path.join(ROOT, '.cache', root, 'boot', f'xen-{xen}-amd64.config')
    try:
        with open(config) as f:
            return f'CONFIG_SCHED_{sched.upper()}=y\n' in f.read()
    except OSError:
        return True


# Which cells are not valid on Xen, as data. docs/matrix.md explains each.
RULES = (
    Rule('scheduler-not-built',
         lambda c: not sched_built(c.xen, c.sched),
         lambda c: (f"Debian's Xen {c.xen} is built without the {c.sched} scheduler "
                    f'(CONFIG_SCHED_{c.sched.upper()}); Xen would run credit2 instead')),
    Rule('null-overcommitted',
         lambda c: c.sched == 'null' and c.domain_vcpus > c.pcpus,
         lambda c: (f'the null scheduler gives each vCPU a pCPU of its own: with {c.domain_vcpus} vCPUs '
                    f'on {c.pcpus} pCPUs Xen never runs {c.domain_vcpus - c.pcpus} of them')),
)


def invalid_reason(cell):
    """Why Xen cannot run this cell, or None."""
    for rule in RULES:
        if rule.applies(cell):
            return f'{rule.name}: {rule.reason(cell)}'
    return None


def vcpu_count(axis, mode, largest):
    return largest[mode] if axis == 'max' else int(axis)


def all_cells(largest=None):
    """Every cell, in the table's order. A single vCPU has one machine (its
    own pCPU), so vCPUs=1 has no 'heavy' cell."""
    largest = largest or LARGEST
    out = []
    for xen in XEN:
        for where in WHERE:
            for mode in MODES:
                for sched in SCHEDS:
                    for axis in VCPUS:
                        vcpus = vcpu_count(axis, mode, largest)
                        for oc in OVERCOMMIT:
                            if vcpus == 1 and oc == 'heavy':
                                continue
                            out.append(Cell(xen, mode, where, sched, vcpus, axis, oc,
                                            PCPUS[oc](vcpus, where)))
    return out
