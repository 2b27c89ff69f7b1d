#!/usr/bin/python3
"""The C API header compiles on its own, twice included, as C11 and as C++.

Each compiler given after "--" (one per argument, with its own flags,
separated by ";") compiles a unit that includes <xenvcpu.h> twice. C
compilers get -std=c11 -ffreestanding -Wall -Wextra -Werror -pedantic; the
header may include nothing but <stdint.h>, <stddef.h> and <stdbool.h>.

usage: header_alone.py INCLUDE_DIR -- "cc;-std=c11;..." "c++;-std=c++20;..."
"""
import re
import subprocess
import sys
from pathlib import Path

ALLOWED = {"stdint.h", "stddef.h", "stdbool.h"}


def main():
    sep = sys.argv.index("--")
    include = Path(sys.argv[1])
    header = include / "xenvcpu.h"
    failed = 0
    for inc in re.findall(r"^\s*#\s*include\s*[<\"]([^>\"]+)[>\"]", header.read_text(), flags=re.M):
        if inc not in ALLOWED:
            print(f"FAIL xenvcpu.h includes <{inc}> (allowed: {', '.join(sorted(ALLOWED))})")
            failed += 1
    # Kernels bring minimal <stdint.h> files of their own (XTF's has no
    # UINT64_C): the header may use the types, not the macros.
    text = re.sub(r"/\*.*?\*/", "", header.read_text(), flags=re.S)
    for macro in sorted(set(re.findall(r"\b(U?INT(?:8|16|32|64|MAX)_C|U?INT(?:8|16|32|64|PTR|MAX)_(?:MAX|MIN)|SIZE_MAX)\b", text))):
        print(f"FAIL xenvcpu.h uses {macro}, which a kernel's minimal <stdint.h> may lack")
        failed += 1
    unit = "#include <xenvcpu.h>\n#include <xenvcpu.h>\n"
    for spec in sys.argv[sep + 1:]:
        cmd = spec.split(";")
        lang = "c++" if "++" in Path(cmd[0]).name else "c"
        proc = subprocess.run(cmd + ["-I", str(include), "-x", lang, "-", "-c", "-o", "/dev/null"],
                              input=unit, capture_output=True, text=True)
        print(f"{'ok  ' if proc.returncode == 0 else 'FAIL'} {' '.join(cmd)}")
        if proc.returncode != 0:
            print(proc.stderr)
            failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
