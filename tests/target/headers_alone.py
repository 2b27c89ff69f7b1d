#!/usr/bin/python3
"""Every public header compiles on its own with the freestanding kernel flags.

Each header under INCLUDE_DIR/xen/ (found here, so no list is kept by hand)
becomes a one-line translation unit, included twice to prove its include
guard, and is compiled with the compiler and flags meson passes after "--".
Also checks that include/ and src/ include no standard header outside the
C++20 freestanding set that the library allows itself.

usage: headers_alone.py INCLUDE_DIR SRC_DIR -- COMPILER [FLAGS...]
"""
import concurrent.futures
import re
import subprocess
import sys
from pathlib import Path

# C++20 freestanding headers ([compliance]) minus those the house rules
# exclude: <cstdlib> (libc calls), <exception> and <typeinfo> (no exceptions,
# no RTTI).
ALLOWED_STD = {
    "atomic", "bit", "cfloat", "climits", "compare", "concepts", "coroutine", "cstdarg", "cstddef",
    "cstdint", "initializer_list", "limits", "new", "source_location", "type_traits", "version",
}


def compile_alone(header, include_dir, command):
    name = header.relative_to(include_dir).as_posix()
    unit = f"#include <{name}>\n#include <{name}>\n"
    proc = subprocess.run(command + ["-I", str(include_dir), "-x", "c++", "-", "-c", "-o", "/dev/null"],
                          input=unit, capture_output=True, text=True)
    return name, proc.returncode, proc.stderr


def std_includes(roots):
    bad = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix not in (".hpp", ".cpp", ".h"):
                continue
            for lineno, line in enumerate(path.read_text().splitlines(), 1):
                m = re.match(r"\s*#\s*include\s*<([^>./]+)>", line)
                if m and m.group(1) not in ALLOWED_STD:
                    bad.append(f"{path.relative_to(root.parent)}:{lineno}: <{m.group(1)}>")
    return bad


def main():
    sep = sys.argv.index("--")
    include_dir, src_dir = Path(sys.argv[1]), Path(sys.argv[2])
    command = sys.argv[sep + 1:]
    headers = sorted((include_dir / "xen").rglob("*.hpp"))
    if not headers:
        print(f"no headers found under {include_dir / 'xen'}")
        return 1

    failed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for name, rc, err in pool.map(lambda h: compile_alone(h, include_dir, command), headers):
            print(f"{'ok  ' if rc == 0 else 'FAIL'} {name}")
            if rc != 0:
                failed.append((name, err))
    for name, err in failed:
        print(f"\n--- {name} does not compile alone:\n{err}")

    bad = std_includes([include_dir, src_dir])
    for b in bad:
        print(f"FAIL {b}: not a freestanding header the library allows ({', '.join(sorted(ALLOWED_STD))})")

    print(f"\nheaders: {len(headers) - len(failed)} of {len(headers)} compile alone with the kernel flags; "
          f"{len(bad)} disallowed standard includes")
    print("flags: " + " ".join(command[1:]))
    return 1 if failed or bad else 0


if __name__ == "__main__":
    sys.exit(main())
