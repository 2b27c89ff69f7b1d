#!/usr/bin/python3
"""Name the Xen release of a libxen-dev include directory, for the report.

Debian's package leaves its changelog beside the headers:
<prefix>/include -> <prefix>/share/doc/libxen-dev/changelog.Debian.gz, whose
first line is "xen (<version>) <suite>; ...".

usage: xen_headers_release.py INCLUDE_DIR   ->  "Xen 4.17 (libxen-dev 4.17.7+13-...)"
"""
import gzip
import re
import sys
from pathlib import Path

include = Path(sys.argv[1])
changelog = include.parent / "share/doc/libxen-dev/changelog.Debian.gz"
try:
    with gzip.open(changelog, "rt") as f:
        first = f.readline()
    version = re.match(r"\S+ \(([^)]+)\)", first).group(1)
    major_minor = ".".join(version.split(".")[:2])
    print(f"Xen {major_minor} (libxen-dev {version})")
except (OSError, AttributeError):
    print(f"Xen (release unknown: no libxen-dev changelog beside {include})")
