#!/usr/bin/python3
"""Run a libFuzzer binary for the fuzz suite over its in-tree seed corpus.

libFuzzer writes the inputs it finds into the first corpus directory it is
given; this puts a fresh scratch directory first, so the seed corpus in the
tree is only read and every run starts from the same inputs (a fixed -seed
then makes it reproducible). The scratch directory is removed afterwards.

usage: run_fuzz.py FUZZER CORPUS_DIR [LIBFUZZER_ARGS...]
"""
import os
import shutil
import subprocess
import sys
import tempfile


def main():
    fuzzer, corpus, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    scratch = tempfile.mkdtemp(prefix=os.path.basename(fuzzer) + "-")
    try:
        dirs = [scratch] + ([corpus] if os.path.isdir(corpus) else [])
        return subprocess.run([fuzzer] + args + dirs).returncode
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
