"""The results directory: one directory per cell, and running a cell.

RESULTS/cells/NAME/ holds scripts/boot's TAP stream (boot.tap), its
messages (boot.err), its exit status (boot.rc), the serial log (boot.log)
and result.json, written last: a cell with a result.json has run. The
names let scripts/report read boot.tap with its siblings.
"""

import json
import os
import signal
import subprocess
import time

# A cell's status after a run.
PASS, FAIL, TIMEOUT, ERROR, UNAVAILABLE = 'pass', 'fail', 'timeout', 'error', 'unavailable'
# ... and before one (never stored).
INVALID, NOT_RUN = 'invalid', 'not run'
# What counts as done: a rerun skips it unless --rerun (or --failed for the
# last two). An error (could not prepare) and a cell not available yet are
# tried again on every run.
DONE = (PASS, FAIL, TIMEOUT)
FAILED = (FAIL, TIMEOUT, ERROR)

# scripts/boot --domu refuses a Xen its dom0 image has no toolstack for with
# exit 2 and this message; the cell runs once it accepts it.
DOMU_REFUSAL = '--domu runs on Xen'


def cell_dir(results, cell):
    return os.path.join(results, 'cells', cell.name)


def load(results, cell):
    """The stored result of a cell, or None. A result made for another
    machine (the cell set changed since) does not count."""
    try:
        with open(os.path.join(cell_dir(results, cell), 'result.json')) as f:
            r = json.load(f)
    except (OSError, ValueError):
        return None
    if r.get('pcpus') != cell.pcpus or r.get('vcpus') != cell.vcpus:
        return None
    return r


def classify(rc, err):
    """(status, note) from scripts/boot's exit status and messages."""
    if rc == 0:
        return PASS, ''
    if rc == 1:
        return FAIL, ''
    if rc == 4:
        return TIMEOUT, ''
    if rc == 2 and DOMU_REFUSAL in err:
        said = next((l for l in err.splitlines() if DOMU_REFUSAL in l), '').replace('scripts/boot: ', '')
        return UNAVAILABLE, f'not available yet (scripts/boot: {said}); the cell runs once --domu boots this Xen'
    if rc == 2:
        return ERROR, 'scripts/boot refused its arguments (a bug in scripts/matrix)'
    if rc == 3:
        return ERROR, 'scripts/boot could not prepare the run'
    return ERROR, f'scripts/boot exited {rc}'


def first_complaint(err):
    """The line that says what went wrong: the first 'not ok', else the
    harness's first message."""
    lines = [l.rstrip('\n') for l in err.splitlines()]
    not_ok = [l[len('scripts/boot:   '):] for l in lines if l.startswith('scripts/boot:   not ok')]
    if not_ok:
        return not_ok[0] + (f' (and {len(not_ok) - 1} more not ok)' if len(not_ok) > 1 else '')
    said = [l[len('scripts/boot: '):] for l in lines if l.startswith('scripts/boot: ')]
    if not said:
        return lines[-1] if lines else ''
    # A timeout: where the guest was when QEMU was killed.
    last = next((l for l in said if l.startswith('last TAP line: ')), None)
    if said[0].startswith('timed out') and last:
        return f'{said[0]}; {last}'
    return said[0]


def complaint(results, cell, status):
    """The complaint of a stored result, read again from its boot.err."""
    if status in (PASS, UNAVAILABLE):
        return ''
    try:
        with open(os.path.join(cell_dir(results, cell), 'boot.err'), errors='replace') as f:
            return first_complaint(f.read())
    except OSError:
        return ''


def command(boot, cell, results, kernel):
    cmd = [boot] + cell.boot_args() + ['--log', os.path.join(cell_dir(results, cell), 'boot.log')]
    return cmd + (['--kernel', kernel] if kernel else [])


def run(boot, cell, results, kernel):
    """Boots one cell and stores its result; returns the result."""
    d = cell_dir(results, cell)
    os.makedirs(d, exist_ok=True)
    for f in ('result.json', 'boot.tap', 'boot.err', 'boot.rc', 'boot.log'):
        try:
            os.remove(os.path.join(d, f))
        except FileNotFoundError:
            pass
    cmd = command(boot, cell, results, kernel)
    started = time.time()
    t0 = time.monotonic()
    with open(os.path.join(d, 'boot.tap'), 'w') as out, open(os.path.join(d, 'boot.err'), 'w') as err:
        # Its own process group, so an interrupt can stop QEMU with it.
        p = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            # scripts/boot stops QEMU at the timeout; this only catches a
            # harness stuck before or after QEMU (building, provisioning).
            rc = p.wait(timeout=cell.timeout + 900)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            rc = 4
        except BaseException:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait()
            raise
    wall = time.monotonic() - t0
    with open(os.path.join(d, 'boot.err'), errors='replace') as f:
        err_text = f.read()
    status, note = classify(rc, err_text)
    with open(os.path.join(d, 'boot.rc'), 'w') as f:
        f.write(f'{rc}\n')
    result = {
        'cell': cell.name, 'xen': cell.xen, 'mode': cell.mode, 'where': cell.where, 'sched': cell.sched,
        'vcpus': cell.vcpus, 'pcpus': cell.pcpus, 'overcommit': cell.overcommit, 'timeout': cell.timeout,
        'status': status, 'rc': rc, 'note': note,
        'complaint': '' if status in (PASS, UNAVAILABLE) else first_complaint(err_text),
        'wall_s': round(wall, 1),
        'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(started)),
        'command': cmd,
    }
    tmp = os.path.join(d, 'result.json.tmp')
    with open(tmp, 'w') as f:
        json.dump(result, f, indent=1)
        f.write('\n')
    os.replace(tmp, os.path.join(d, 'result.json'))
    return result
