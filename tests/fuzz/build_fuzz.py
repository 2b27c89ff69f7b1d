#!/usr/bin/python3
"""Build a libFuzzer binary with a second compiler (clang) inside a meson
build whose C++ compiler is another (gcc).

Each source is compiled to its own object (again only when the source or a
header it includes changed, read from the object's dependency file), then
all are linked. One depfile for the output lists every header, so ninja
rebuilds the fuzzer when any of them changes.

With --archive AR the objects go into a static archive OUTPUT instead of a
program: the library and the simulator are compiled once that way and each
fuzzer links the archive (a SOURCE ending in .a is linked, not compiled).

usage: build_fuzz.py OUTPUT DEPFILE OBJDIR [--archive AR] -- COMPILER FLAGS... -- SOURCES...
"""
import os
import subprocess
import sys


def deps_of(dfile):
    """The prerequisites listed in a make-style dependency file."""
    try:
        text = open(dfile).read()
    except OSError:
        return None
    text = text.replace("\\\n", " ")
    _, _, rest = text.partition(":")
    return [p.replace("\\ ", " ") for p in rest.split()]


def stale(obj, dfile):
    deps = deps_of(dfile)
    if deps is None or not os.path.exists(obj):
        return True
    built = os.path.getmtime(obj)
    return any(not os.path.exists(d) or os.path.getmtime(d) > built for d in deps)


def main():
    argv = sys.argv[1:]
    output, depfile, objdir = argv[0], argv[1], argv[2]
    archiver = argv[argv.index("--archive") + 1] if "--archive" in argv[:argv.index("--")] else None
    first = argv.index("--")
    second = argv.index("--", first + 1)
    compiler = argv[first + 1:second]
    sources = argv[second + 1:]
    os.makedirs(objdir, exist_ok=True)

    objects, archives, all_deps = [], [], set()
    for src in sources:
        if src.endswith(".a"):
            archives.append(src)
            all_deps.add(src)
            continue
        stem = os.path.normpath(src).replace(os.sep, "_").replace(".", "_")
        obj = os.path.join(objdir, stem + ".o")
        dfile = os.path.join(objdir, stem + ".d")
        if stale(obj, dfile):
            subprocess.run(compiler + ["-c", src, "-o", obj, "-MD", "-MF", dfile], check=True)
        objects.append(obj)
        all_deps.update(deps_of(dfile) or [src])

    if archiver is not None:
        if os.path.exists(output):
            os.remove(output)
        subprocess.run([archiver, "rcs", output] + objects, check=True)
    else:
        subprocess.run(compiler + objects + archives + ["-o", output], check=True)
    with open(depfile, "w") as f:
        f.write(output.replace(" ", "\\ ") + ": " + " ".join(d.replace(" ", "\\ ") for d in sorted(all_deps)) + "\n")


if __name__ == "__main__":
    main()
