#!/usr/bin/python3
"""Every function the C API declares is called by the C host test.

Lists the functions declared in the header (xenvcpu_* names followed by
"(" that are not function-pointer types) and fails for each one the test
source never calls. xenvcpu_panic is left out: the kernel defines it.

usage: coverage.py HEADER TEST_SOURCE
"""
import re
import sys

KERNEL_DEFINED = {"xenvcpu_panic"}


def declared(header):
    text = re.sub(r"/\*.*?\*/", "", open(header).read(), flags=re.S)
    # A declaration: the name, then "(" not followed by "*" (which makes it
    # the return type of a function pointer, e.g. "xenvcpu_errc (*hook)(").
    names = re.findall(r"\b(xenvcpu_[a-z0-9_]+)\s*\((?!\s*\*)", text)
    return sorted(set(names) - KERNEL_DEFINED)


def main():
    header, test = sys.argv[1:3]
    source = open(test).read()
    names = declared(header)
    missing = [n for n in names if not re.search(r"\b" + n + r"\s*\(", source)]
    for n in missing:
        print(f"FAIL {n} is declared in the header and called by no test")
    print(f"C API functions called by the C test: {len(names) - len(missing)} of {len(names)}")
    return 1 if missing or not names else 0


if __name__ == "__main__":
    sys.exit(main())
