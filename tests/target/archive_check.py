#!/usr/bin/python3
"""The freestanding archive asks nothing of a kernel beyond the documented hooks.

1. Symbols: every symbol an object of the archive leaves undefined is either
   defined by another member (xenvcpu_hypercall_page, defined in page.S, must be)
   or one of the hooks a kernel provides at link time: xenvcpu_panic, and
   memcpy / memset / memmove / memcmp, which GCC may emit even in
   freestanding code.
2. Sections: no .init_array / .preinit_array / .ctors (global constructors),
   no .fini_array / .dtors (destructors registered at exit), no .tdata /
   .tbss (thread-local storage): a kernel runs none of these.

usage: archive_check.py ARCHIVE NM READELF
"""
import re
import subprocess
import sys

HOOKS = {"xenvcpu_panic", "memcpy", "memset", "memmove", "memcmp"}
MUST_DEFINE = {"xenvcpu_hypercall_page"}
FORBIDDEN_SECTIONS = (".init_array", ".preinit_array", ".ctors", ".fini_array", ".dtors", ".tdata", ".tbss")


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def symbols(nm, archive):
    """{member: set(undefined)}, {symbol: member} of global definitions."""
    undefined, defined = {}, {}
    for line in run(nm, "-A", archive).splitlines():
        # "<archive>:<member>:<value> <type> <name>", value blank when undefined
        m = re.match(r".*?:([^:]+):\s*([0-9a-f]*)\s+(\S)\s+(\S+)$", line)
        if not m:
            continue
        member, _, kind, name = m.groups()
        if kind in "Uw":
            undefined.setdefault(member, set()).add(name)
        elif kind.isupper() or kind in "uvi":
            defined[name] = member
    return undefined, defined


def sections(readelf, archive):
    """{member: [(name, size)]} from readelf -S -W."""
    out, member = {}, None
    for line in run(readelf, "-S", "-W", archive).splitlines():
        if (m := re.match(r"File: .*\((.+)\)$", line)):
            member = m.group(1)
            out[member] = []
        elif member and (m := re.match(r"\s*\[\s*\d+\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)):
            out[member].append((m.group(1), int(m.group(2), 16)))
    return out


def main():
    archive, nm, readelf = sys.argv[1:4]
    failures = 0

    undefined, defined = symbols(nm, archive)
    print(f"undefined symbols of {archive.split('/')[-1]} (nm -u), by member:")
    for member in sorted(undefined):
        for name in sorted(undefined[member]):
            if name in defined:
                verdict = f"ok   resolved inside the archive ({defined[name]})"
            elif name in HOOKS:
                verdict = "ok   documented kernel hook"
            else:
                verdict = "FAIL neither defined in the archive nor a documented hook"
                failures += 1
            print(f"  {member:36} {name:40} {verdict}")
    for name in sorted(MUST_DEFINE):
        if name in defined:
            print(f"  ok   {name} is defined in the archive ({defined[name]})")
        else:
            print(f"  FAIL {name} is not defined in the archive")
            failures += 1

    print("\nsections (debug info left out):")
    for member, secs in sorted(sections(readelf, archive).items()):
        shown = [f"{n}({s})" for n, s in secs
                 if n not in ("NULL", ".symtab", ".strtab", ".shstrtab", ".note.GNU-stack")
                 and not n.startswith((".debug", ".rela.debug", ".comment"))]
        print(f"  {member:36} {' '.join(shown)}")
        for name, _ in secs:
            base = name[len(".rela"):] if name.startswith(".rela.") else name
            if base.startswith(FORBIDDEN_SECTIONS):
                print(f"  FAIL {member}: section {name} (global constructor, exit-time destructor or TLS)")
                failures += 1

    print(f"\narchive contract: {'kept' if failures == 0 else f'{failures} violation(s)'}"
          f" (hooks allowed: {', '.join(sorted(HOOKS))})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
