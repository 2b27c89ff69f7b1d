#!/usr/bin/python3
"""How much code the freestanding library adds to a kernel, against a budget.

The figure is the .text a kernel links from libxenvcpu.a: the example
consumer kernel (examples/consumers/kernel.c: discovery, domain set-up,
a tickless timer through the C API) is linked against the archive with
`ld -r`, which takes only the members the kernel needs, as a kernel's own
link does. The library's part is the .text* of the result less the kernel's
own .text* and less the hypercall page (4 KiB, page aligned, in
.text.xenvcpu_hypercall_page), which is named separately: it is the page
Xen fills, not compiled code, and a kernel with a page of its own does not
link ours. Alignment padding between the library's functions counts.

For comparison it also prints the .text of the whole archive (every member,
`ld -r --whole-archive`, so shared inline functions count once): what a
kernel using every component would link. Only the first figure has a budget.

The budget holds at -O2 (buildtype debugoptimized or -Doptimization=2); any
other optimisation level prints the figures and skips.

usage: text_budget.py ARCHIVE CONSUMER_ARCHIVE LD READELF NM OPTIMIZATION BUDGET_BYTES
"""
import os
import re
import subprocess
import sys
import tempfile

PAGE_SECTION = ".text.xenvcpu_hypercall_page"
SKIP = 77


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def text_sections(readelf, obj):
    """{section name: size} for every .text* section of obj (all members if an archive)."""
    out = {}
    for line in run(readelf, "-S", "-W", obj).splitlines():
        m = re.match(r"\s*\[\s*\d+\]\s+(\.text\S*)\s+PROGBITS\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            out[m.group(1)] = out.get(m.group(1), 0) + int(m.group(2), 16)
    return out


def split(secs):
    """(code bytes, hypercall page bytes) of a {section: size} map."""
    page = secs.get(PAGE_SECTION, 0)
    return sum(secs.values()) - page, page


def kib(n):
    return f"{n} bytes ({n / 1024:.2f} KiB)"


def biggest(nm, obj, exclude, count=12):
    """The count largest functions of obj not defined by the kernel (exclude)."""
    rows = []
    for line in run(nm, "--size-sort", "-S", "-C", obj).splitlines():
        m = re.match(r"[0-9a-f]+ ([0-9a-f]+) ([tTWw]) (.+)$", line)
        if m and m.group(3) not in exclude and m.group(3) != "xenvcpu_hypercall_page":
            rows.append((int(m.group(1), 16), m.group(3)))
    return rows[-count:][::-1]


def main():
    archive, consumer, ld, readelf, nm, optimization, budget = sys.argv[1:8]
    budget = int(budget)

    with tempfile.TemporaryDirectory() as tmp:
        linked = os.path.join(tmp, "kernel.o")
        run(ld, "-r", "-o", linked, "--whole-archive", consumer, "--no-whole-archive", archive)
        whole = os.path.join(tmp, "whole.o")
        run(ld, "-r", "-o", whole, "--whole-archive", archive)

        kernel_code, _ = split(text_sections(readelf, consumer))
        linked_code, linked_page = split(text_sections(readelf, linked))
        whole_code, whole_page = split(text_sections(readelf, whole))
        kernel_symbols = {
            line.split()[-1] for line in run(nm, "--defined-only", consumer).splitlines() if len(line.split()) == 3
        }
        top = biggest(nm, linked, kernel_symbols)

    figure = linked_code - kernel_code
    print(f"optimisation: -O{optimization}")
    print(f"library .text linked by examples/consumers/kernel.c: {kib(figure)}")
    print(f"  budget: {kib(budget)}")
    print(f"  hypercall page, not counted: {kib(linked_page)} in {PAGE_SECTION}")
    print(f"  (the kernel's own .text, not counted: {kib(kernel_code)})")
    print(f"whole archive .text, every member, for comparison (no budget): {kib(whole_code)}")
    print(f"  hypercall page, not counted: {kib(whole_page)}")
    print("largest library functions the consumer links (bytes):")
    for size, name in top:
        print(f"  {size:6}  {name}")

    if optimization != "2":
        print(f"SKIP: the budget is for -O2; this build is -O{optimization}")
        return SKIP
    if figure > budget:
        print(f"FAIL: {kib(figure)} is over the budget of {kib(budget)}")
        return 1
    print(f"ok: {kib(figure)} is within the budget of {kib(budget)} ({budget - figure} bytes to spare)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
