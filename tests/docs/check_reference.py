#!/usr/bin/python3
"""The API reference check (meson suite `docs`; docs/reference.md).

    check_reference.py [--doxygen PATH] [--source DIR] --out DIR
        Build the reference of DIR's headers (default: this repository)
        with docs/Doxyfile into OUT/html and fail on any Doxygen warning:
        an undocumented public declaration, a broken \\ref or link, an
        unknown command. Prints every warning and the count.

    check_reference.py [--doxygen PATH] --self-test --out DIR
        Prove the check bites: copy the headers, the index page and the
        Doxyfile into OUT/tree, add one undocumented public function to a
        C++ header and one to the C header, and a link to a name that does
        not exist to the index page; run the same check, and pass only if
        it fails naming all three.
"""
import argparse
import pathlib
import shutil
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[2]

# What the self-test adds: one function in namespace xen at the end of a C++
# header, one in the extern "C" block of the C header.
INJECT_CPP_HEADER = "include/xen/domain.hpp"
INJECT_CPP_NAME = "reference_selftest_undocumented"
INJECT_C_HEADER = "include/xenvcpu.h"
INJECT_C_NAME = "xenvcpu_reference_selftest_undocumented"
INJECT_REF_NAME = "xen::reference_selftest_missing"


def check(doxygen, source, out):
    """Run Doxygen on `source` into `out`; return the list of warning lines."""
    out.mkdir(parents=True, exist_ok=True)
    config = (source / "docs" / "Doxyfile").read_text()
    # Later settings win: only where things go differs from the checked-in file.
    config += f'\nOUTPUT_DIRECTORY = "{out}"\nWARN_LOGFILE =\n'
    run = subprocess.run([doxygen, "-"], input=config, cwd=source, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    # Doxygen reports some declarations twice (namespace and file): once each.
    warnings = list(dict.fromkeys(line for line in run.stderr.splitlines() if line.strip()))
    if run.returncode != 0 and not warnings:
        warnings = [f"doxygen exited with {run.returncode}"] + run.stdout.splitlines()
    return warnings


def report(warnings, out):
    for line in warnings:
        print(line)
    print(f"reference: {len(warnings)} warning(s); HTML in {out / 'html' / 'index.html'}")


def inject(path, marker, text, last=True):
    """Insert `text` before the last (or first) line equal to `marker`."""
    lines = path.read_text().splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if line.rstrip("\n") == marker]
    if not hits:
        sys.exit(f"self-test: no line {marker!r} in {path}")
    i = hits[-1] if last else hits[0]
    lines.insert(i, text)
    path.write_text("".join(lines))


def self_test(doxygen, out):
    tree = out / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    shutil.copytree(REPO / "include", tree / "include")
    (tree / "docs").mkdir(parents=True)
    for name in ("Doxyfile", "reference.md"):
        shutil.copy(REPO / "docs" / name, tree / "docs" / name)
    inject(tree / INJECT_CPP_HEADER, "} // namespace xen",
           f"int {INJECT_CPP_NAME}(int vcpu) noexcept;\n")
    inject(tree / INJECT_C_HEADER, "#ifdef __cplusplus",
           f"int {INJECT_C_NAME}(uint32_t vcpu) XENVCPU_NOEXCEPT;\n")
    with open(tree / "docs" / "reference.md", "a") as page:
        page.write(f"\nSee [the missing one](@ref {INJECT_REF_NAME}).\n")
    print(f"self-test: added {INJECT_CPP_NAME}() to {INJECT_CPP_HEADER} and "
          f"{INJECT_C_NAME}() to {INJECT_C_HEADER}, undocumented, and a link "
          f"to {INJECT_REF_NAME} to docs/reference.md")
    warnings = check(doxygen, tree, out / "build")
    report(warnings, out / "build")
    expected = [(INJECT_CPP_NAME, "not documented"), (INJECT_C_NAME, "not documented"),
                (INJECT_REF_NAME, "unable to resolve reference")]
    missing = [name for name, what in expected
               if not any(name in line and what in line for line in warnings)]
    if missing:
        print(f"self-test FAILED: the check did not report {', '.join(missing)}")
        return 1
    print("self-test passed: the check fails, naming both undocumented functions and the broken link")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--doxygen", default="doxygen")
    ap.add_argument("--source", type=pathlib.Path, default=REPO)
    ap.add_argument("--out", type=pathlib.Path, required=True)
    ap.add_argument("--self-test", action="store_true")
    args = ap.parse_args()
    out = args.out.resolve()
    if args.self_test:
        return self_test(args.doxygen, out)
    warnings = check(args.doxygen, args.source.resolve(), out)
    report(warnings, out)
    return 1 if warnings else 0


if __name__ == "__main__":
    sys.exit(main())
