"""scripts/matrix: the command line."""

import argparse
import fnmatch
import os
import shlex
import signal
import sys
import time

from . import cells, store, table

# scripts/lib/xvmatrix/cli.py -> the tree's root
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))

USAGE = """\
scripts/matrix [FILTERS] [GLOB...] [--list | --dry-run | --table-only]
               [--rerun | --failed] [--include-invalid] [--results DIR]
               [--kernel ELF] [--largest MODE=N]

Boots the minikernel's default scenarios once per cell of {Xen 4.17, 4.20}
x {PV, PVH} x {dom0, domU} x {credit2, credit, null, rtds} x {1, 8, 64, the
largest} vCPUs x {light, heavy} overcommit, one scripts/boot at a time, and
writes RESULTS/matrix.md and RESULTS/matrix.html (docs/matrix.md).

Filters (comma-separated values; every filter must match):
  --xen 4.17,4.20        --mode pv,pvh          --where dom0,domu
  --sched credit2,credit,null,rtds              --vcpus 1,8,64,max (or a number)
  --overcommit light,heavy
  GLOB...                cell names (shell patterns), e.g. 'xen4.17-pv*-dom0-credit2-*'

  --list             the cells picked: name, machine, timeout, state; no boot
  --dry-run          what a run would do, cell by cell; no boot, nothing written
  --table-only       write the table from the stored results; no boot
  --estimate         how long the cells picked take: measured where they ran,
                     else estimated from the most alike cells that did
  --rerun            boot the cells picked even if they have a result
  --failed           boot again the cells whose result is fail, timeout or error
  --include-invalid  boot the cells Xen cannot run as asked (see --list) too
  --results DIR      where results and the table go (default build/matrix)
  --kernel ELF       the minikernel (default: scripts/boot builds it)
  --largest MODE=N   the largest vCPU count of pv or pvh for this run

A run skips each cell that has a result (resumable) and boots the rest in
order; each cell's files are in RESULTS/cells/NAME/. Exit status: 0 every
valid cell picked passed; 1 some did not (failed, timed out, could not
run, not available yet, or not run); 2 bad usage.
Test hook: XENVCPU_MATRIX_BOOT names a stand-in for scripts/boot.
"""


def split(values):
    out = []
    for v in values or []:
        out.extend(x for x in v.split(',') if x)
    return out


def parse_args(argv):
    p = argparse.ArgumentParser(prog='scripts/matrix', usage=USAGE.split('\n\n')[0].replace('scripts/matrix', '%(prog)s', 1),
                                add_help=False)
    p.add_argument('-h', '--help', action='store_true')
    for axis in ('xen', 'mode', 'where', 'sched', 'vcpus', 'overcommit'):
        p.add_argument('--' + axis, action='append')
    what = p.add_mutually_exclusive_group()
    what.add_argument('--list', action='store_true')
    what.add_argument('--dry-run', action='store_true')
    what.add_argument('--table-only', action='store_true')
    what.add_argument('--estimate', action='store_true')
    again = p.add_mutually_exclusive_group()
    again.add_argument('--rerun', action='store_true')
    again.add_argument('--failed', action='store_true')
    p.add_argument('--include-invalid', action='store_true')
    p.add_argument('--results', default=os.path.join(ROOT, 'build', 'matrix'))
    p.add_argument('--kernel')
    p.add_argument('--largest', action='append')
    p.add_argument('globs', nargs='*')
    args = p.parse_args(argv)
    if args.help:
        sys.stdout.write(USAGE)
        sys.exit(0)
    return args, p


def choose(args, parser):
    """[(cell, invalid reason or None)] the filters pick, in table order."""
    largest = dict(cells.LARGEST)
    for item in args.largest or []:
        mode, _, n = item.partition('=')
        if mode not in cells.MODES or not n.isdigit() or int(n) < 1:
            parser.error(f"--largest takes pv=N or pvh=N, not '{item}'")
        largest[mode] = int(n)
    allowed = {'xen': cells.XEN, 'mode': cells.MODES, 'where': cells.WHERE, 'sched': cells.SCHEDS,
               'overcommit': cells.OVERCOMMIT}
    want = {}
    for axis, values in allowed.items():
        picked = split(getattr(args, axis))
        for v in picked:
            if v not in values:
                parser.error(f"--{axis} takes {', '.join(values)}, not '{v}'")
        want[axis] = set(picked) or set(values)
    vcpus = split(args.vcpus)
    for v in vcpus:
        if v != 'max' and not (v.isdigit() and int(v) > 0):
            parser.error(f"--vcpus takes 1, 8, 64, max or a count, not '{v}'")
    out, seen = [], set()
    for c in cells.all_cells(largest):
        if c.name in seen:
            continue
        seen.add(c.name)
        if any(getattr(c, axis) not in want[axis] for axis in allowed):
            continue
        if vcpus and c.vcpus_axis not in vcpus and str(c.vcpus) not in vcpus:
            continue
        if args.globs and not any(fnmatch.fnmatchcase(c.name, g) for g in args.globs):
            continue
        out.append((c, cells.invalid_reason(c)))
    return out


def state(results, cell, invalid):
    r = store.load(results, cell)
    if r:
        return r['status'] + (f' ({r["wall_s"]:g} s)' if r.get('wall_s') is not None else '')
    return store.INVALID if invalid else store.NOT_RUN


def wants_boot(args, result, invalid):
    """Why this cell boots now, or None."""
    if invalid and not args.include_invalid:
        return None
    if result is None or result['status'] not in store.DONE:
        return 'no result' if result is None else result['status']
    if args.rerun:
        return '--rerun'
    if args.failed and result['status'] in store.FAILED:
        return '--failed'
    return None


# From the most alike to the least: the wall time of a cell that has not
# run is the median of the measured cells that share these axes with it.
# The last two ignore dom0/domU: a domU cell then counts as its dom0 twin
# (short by the Linux dom0's boot).
ALIKE = (('where', 'mode', 'vcpus', 'overcommit', 'xen'), ('where', 'mode', 'vcpus', 'overcommit'),
         ('where', 'vcpus', 'overcommit'), ('where', 'vcpus'), ('mode', 'vcpus', 'overcommit'),
         ('vcpus', 'overcommit'))


def estimate(results, picked, include_invalid):
    measured = {}
    for c in cells.all_cells():
        r = store.load(results, c)
        if r and r['status'] in store.DONE:
            measured[c] = r['wall_s']
    ran = guessed = 0.0
    n_ran = n_guessed = n_twin = 0
    unknown = []
    for c, invalid in picked:
        if invalid and not include_invalid:
            continue
        if c in measured:
            ran += measured[c]
            n_ran += 1
            continue
        for axes in ALIKE:
            alike = sorted(t for o, t in measured.items() if all(getattr(o, a) == getattr(c, a) for a in axes))
            if alike:
                guessed += alike[len(alike) // 2]
                n_guessed += 1
                n_twin += 'where' not in axes
                break
        else:
            unknown.append(c.name)
    print(f'measured: {n_ran} cells, {ran / 60:.1f} min of boots')
    twins = f'; {n_twin} of them from cells of the other domain kind' if n_twin else ''
    print(f'estimated: {n_guessed} cells, {guessed / 60:.1f} min (the median of the most alike measured cells{twins})')
    if unknown:
        more = f' and {len(unknown) - 6} more' if len(unknown) > 6 else ''
        print(f'no estimate: {len(unknown)} cells (nothing alike measured): {" ".join(unknown[:6])}{more}')
    print(f'total: {(ran + guessed) / 3600:.1f} h for {n_ran + n_guessed} cells'
          + (f', {len(unknown)} more unknown' if unknown else ''))
    return 0


def say(text):
    print(f'[matrix] {text}', file=sys.stderr, flush=True)


def main(argv=None):
    # A pager that quits early ends the listing quietly.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    args, parser = parse_args(sys.argv[1:] if argv is None else argv)
    picked = choose(args, parser)
    if not picked:
        parser.error('no cell matches the filters (scripts/matrix --list shows every cell)')
    results = os.path.abspath(args.results)
    boot = os.environ.get('XENVCPU_MATRIX_BOOT') or os.path.join(ROOT, 'scripts', 'boot')
    kernel = os.path.abspath(args.kernel) if args.kernel else None

    if args.list:
        width = max(len(c.name) for c, _ in picked)
        for c, invalid in picked:
            line = f'{c.name:<{width}}  {c.machine:<22} timeout {c.timeout:>4} s  {state(results, c, invalid)}'
            print(line + (f': {invalid}' if invalid and not store.load(results, c) else ''))
        return 0

    if args.estimate:
        return estimate(results, picked, args.include_invalid)

    plan = [(c, invalid, wants_boot(args, store.load(results, c), invalid)) for c, invalid in picked]
    if args.dry_run:
        for c, invalid, why in plan:
            if why:
                print(f'boot {c.name} ({why}): {shlex.join(store.command(boot, c, results, kernel))}')
            elif invalid and not store.load(results, c):
                print(f'skip {c.name}: not valid on Xen: {invalid}')
            else:
                print(f'skip {c.name}: done ({state(results, c, invalid)})')
        return 0

    if not args.table_only:
        todo = [(c, why) for c, _, why in plan if why]
        say(f'{len(picked)} cells picked, {len(todo)} to boot, results in {results}')
        t0 = time.monotonic()
        try:
            for i, (c, why) in enumerate(todo, 1):
                say(f'[{i}/{len(todo)}] {c.name}: {c.machine}, timeout {c.timeout} s ({why})')
                r = store.run(boot, c, results, kernel)
                extra = '; '.join(t for t in (r['complaint'], r['note']) if t)
                say(f'[{i}/{len(todo)}] {c.name}: {r["status"]} in {r["wall_s"]:g} s' + (f': {extra}' if extra else ''))
        except KeyboardInterrupt:
            say('interrupted: the cell under way keeps no result')
            table.write(results, picked)
            return 130
        if todo:
            say(f'booted {len(todo)} cells in {(time.monotonic() - t0) / 60:.1f} min')

    rows = table.write(results, picked)
    print(f'{len(rows)} cells: {table.tally(rows)}')
    print(f'table: {os.path.join(results, "matrix.md")} and matrix.html')
    valid = [r for r, (_, invalid) in zip(rows, picked) if not invalid or args.include_invalid]
    return 0 if all(r['status'] == store.PASS for r in valid) else 1
