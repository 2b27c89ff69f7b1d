#!/usr/bin/python3
"""The list of meson suites is one list: `scripts/test --list` (a table in
scripts/test) names every suite the meson.build files declare, in any
configuration (host, target, tsan), and no other; every suite this build
registers is in it; and README.md shows the same list, line for line.

    suite_list.py SOURCE_ROOT BUILD_ROOT

Prints TAP. README.md carries the list as a fenced block right after the
line `<!-- suites: ... -->`; paste the output of `./scripts/test --list`
there when a suite comes or goes.
"""
import json
import os
import pathlib
import re
import subprocess
import sys

source = pathlib.Path(sys.argv[1])
build = pathlib.Path(sys.argv[2])

results = []


def check(what, ok, *detail):
    results.append((what, ok, detail))


# What scripts/test --list prints: "name  description" lines.
run = subprocess.run([str(source / 'scripts' / 'test'), '--list'], capture_output=True, text=True)
listed = run.stdout.splitlines()
names = [line.split()[0] for line in listed if line.strip()]
check('scripts/test --list exits 0 and prints one suite a line, a name and what it runs',
      run.returncode == 0 and listed and all(re.fullmatch(r'[a-z0-9_-]+ +\S.*', line) for line in listed),
      run.stderr, *listed)
check('scripts/test --list names each suite once',
      len(names) == len(set(names)), *names)

# The suites the meson.build files declare: every `suite:` value, a string
# or a list of strings, in every configuration (a static read: build/target
# and build/tsan need not be configured).
declared = {}
unreadable = []
build_files = []
for top, dirs, files in os.walk(source):
    # Not the build directories (build/host, build/target...), subprojects,
    # or hidden ones (.git, the download cache).
    at_top = pathlib.Path(top) == source
    dirs[:] = sorted(d for d in dirs
                     if not (d.startswith('.') or d == 'subprojects' or (at_top and d.startswith('build'))))
    build_files += [pathlib.Path(top) / 'meson.build'] if 'meson.build' in files else []
for path in build_files:
    rel = path.relative_to(source)
    text = path.read_text()
    for match in re.finditer(r'\bsuite\s*:\s*(\[[^\]]*\]|\'[^\']*\'|[^,)\s]+)', text):
        value = match.group(1)
        found = re.findall(r"'([^']*)'", value)
        if not found:
            unreadable.append(f'{rel}: suite: {value}')
        for name in found:
            declared.setdefault(name, str(rel))
check('every suite: in a meson.build is a string or a list of strings (so it can be read here)',
      not unreadable, *unreadable)
missing = sorted(set(declared) - set(names))
check('scripts/test --list names every suite the meson.build files declare',
      not missing, *(f'{name} (declared in {declared[name]})' for name in missing))
extra = sorted(set(names) - set(declared))
check('scripts/test --list names no suite the meson.build files do not declare',
      not extra, *extra)

# The suites this build registers, as meson itself reports them.
info = build / 'meson-info' / 'intro-tests.json'
try:
    tests = json.loads(info.read_text())
    registered = {suite.split(':')[-1] for test in tests for suite in test['suite']}
    check('scripts/test --list names every suite this build registers (meson introspect)',
          registered and registered <= set(names), *sorted(registered - set(names)))
except (OSError, ValueError, KeyError) as error:
    check('scripts/test --list names every suite this build registers (meson introspect)', False, str(error))

# README.md: the fenced block after the marker line.
readme = (source / 'README.md').read_text().splitlines()
marker = [i for i, line in enumerate(readme) if line.strip().startswith('<!-- suites:')]
block = None
if len(marker) == 1:
    fence = [i for i in range(marker[0] + 1, len(readme)) if readme[i].strip().startswith('```')]
    if len(fence) >= 2:
        block = [line.strip() for line in readme[fence[0] + 1:fence[1]]]
check("README.md's suite list (the block after <!-- suites: -->) is scripts/test --list, line for line",
      block == [line.strip() for line in listed],
      *(['README.md has no single <!-- suites: --> marker with a fenced block after it'] if block is None else
        [f'README: {a!r}' for a in block if a not in [l.strip() for l in listed]] +
        [f'--list: {a!r}' for a in [l.strip() for l in listed] if a not in block]))

# scripts/test --help points at --list rather than keeping a list of its own.
run = subprocess.run([str(source / 'scripts' / 'test'), '--help'], capture_output=True, text=True)
check('scripts/test --help names --list (and keeps no suite list of its own)',
      run.returncode == 0 and '--list' in run.stdout
      and not any(f', {name},' in run.stdout or f'({name},' in run.stdout for name in names),
      run.stdout)

print('TAP version 13')
for number, (what, ok, detail) in enumerate(results, 1):
    print(f'{"ok" if ok else "not ok"} {number} - {what}')
    if not ok:
        for line in detail:
            for part in str(line).splitlines():
                print(f'# {part}')
print(f'1..{len(results)}')
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
