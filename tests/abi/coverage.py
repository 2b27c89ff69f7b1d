#!/usr/bin/python3
"""Every declaration in include/xen/abi/ is compared with Xen's headers.

The conformance test proves what it checks; this script proves it checks
everything: each enumerator, constant, helper and type alias must be named
(xa::...) in a tests/abi source, each struct must have an ABI_TYPE line and
each of its fields, down to the members of inline unions and structs, an
ABI_FIELD / ABI_SAME_FIELD / ABI_PAD line. A declaration Xen's headers do not
spell is marked with ABI_NOT_IN_XEN_HEADERS / ABI_TYPE_NOT_IN_XEN_HEADERS and
the source of the fact.

usage: coverage.py ABI_HEADER_DIR TEST_SOURCE...
"""
import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_]\w*"


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))


def matching_brace(text, open_at):
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError("unbalanced braces")


def statements(body):
    """Split a namespace or struct body into top-level statements. A function
    definition ends at its closing brace; anything else at a ';'."""
    out, start, i = [], 0, 0
    while i < len(body):
        c = body[i]
        if c == "{":
            end = matching_brace(body, i)
            head = body[start:i]
            if re.search(r"\)\s*(?:const\s*)?(?:noexcept\s*)?$", head):
                out.append(body[start:end + 1].strip())  # a function definition
                start = end + 1
            i = end + 1
            continue
        if c == ";":
            out.append(body[start:i].strip())
            start = i + 1
        i += 1
    return [s for s in out if s]


def fields(body, prefix=""):
    """Leaf member paths of a struct body ("console.domu.mfn")."""
    paths = []
    for st in statements(body):
        if st.startswith("static_assert") or "(" in st.split("{")[0]:
            continue
        if "{" in st:
            inner = st[st.index("{") + 1:st.rindex("}")]
            name = st[st.rindex("}") + 1:].strip()
            paths += fields(inner, prefix + name + ".")
            continue
        declarators = st.split(",")
        first = re.findall(IDENT + r"(?=\s*(?:\[|$))", declarators[0].strip())
        names = [first[-1]] if first else []
        for d in declarators[1:]:
            m = re.match(r"\s*(" + IDENT + r")", d)
            if m:
                names.append(m.group(1))
        paths += [prefix + n for n in names]
    return paths


def declarations(header_text):
    """(kind, name, detail) for each declaration in namespace xen::abi."""
    text = strip_comments(header_text)
    m = re.search(r"namespace\s+xen::abi\s*\{", text)
    if not m:
        return []
    body = text[m.end() - 1 + 1:matching_brace(text, m.end() - 1)]
    decls = []
    for st in statements(body):
        if st.startswith("static_assert"):
            continue
        if (e := re.match(r"enum\s+class\s+(" + IDENT + r")[^{]*\{(.*)\}", st, re.S)):
            for entry in e.group(2).split(","):
                if (n := re.match(r"\s*(" + IDENT + r")", entry)):
                    decls.append(("enumerator", f"{e.group(1)}::{n.group(1)}", None))
        elif (s := re.match(r"struct\s+(" + IDENT + r")\s*\{", st)):
            inner = st[st.index("{") + 1:st.rindex("}")]
            decls.append(("struct", s.group(1), fields(inner)))
        elif (u := re.match(r"using\s+(" + IDENT + r")\s*=", st)):
            decls.append(("alias", u.group(1), None))
        elif (f := re.match(r"(?:inline\s+)?constexpr\s+[^=({]*?\b(" + IDENT + r")\s*\(", st)):
            decls.append(("function", f.group(1), None))
        elif (c := re.match(r"(?:inline\s+)?constexpr\s+[^=]*?\b(" + IDENT + r")\s*=", st)):
            decls.append(("constant", c.group(1), None))
        else:
            decls.append(("unrecognised", st.split("\n")[0][:60], None))
    return decls


def main():
    header_dir, sources = Path(sys.argv[1]), sys.argv[2:]
    tests = "\n".join(strip_comments(Path(s).read_text()) for s in sources)
    tests_flat = re.sub(r"\s+", " ", tests)
    typed = set(re.findall(r"ABI_TYPE(?:_NOT_IN_XEN_HEADERS)?\(\s*xa::(" + IDENT + r")\s*,", tests_flat))
    field_re = (r"ABI_(?:SAME_)?FIELD\(\s*xa::(" + IDENT + r")\s*,\s*[^,]+,\s*([\w.]+)"
                r"|ABI_PAD\(\s*xa::(" + IDENT + r")\s*,\s*([\w.]+)")
    checked_fields = set()
    for m in re.finditer(field_re, tests_flat):
        checked_fields.add((m.group(1) or m.group(3), m.group(2) or m.group(4)))

    missing, total = [], 0
    for header in sorted(header_dir.glob("*.hpp")):
        for kind, name, detail in declarations(header.read_text()):
            where = f"{header.name}: {kind} {name}"
            if kind == "unrecognised":
                missing.append(f"{where} (coverage.py cannot read this declaration)")
                continue
            if kind == "struct":
                total += 1
                if name not in typed:
                    missing.append(f"{where} (no ABI_TYPE line)")
                for path in detail:
                    total += 1
                    if name in typed and (name, path) not in checked_fields and \
                            not re.search(r"ABI_TYPE_NOT_IN_XEN_HEADERS\(\s*xa::" + name + r"\b", tests_flat):
                        missing.append(f"{where}::{path} (no ABI_FIELD / ABI_SAME_FIELD / ABI_PAD line)")
                continue
            total += 1
            if not re.search(r"\bxa::" + re.escape(name) + r"\b(?!::)", tests_flat):
                missing.append(f"{where} (not compared)")

    if missing:
        print(f"abi coverage: {len(missing)} of {total} declarations in {header_dir} are not compared "
              "with Xen's headers:")
        for m in missing:
            print("  " + m)
        print("Add a check in tests/abi/*_conformance.cpp (ABI_CONST, ABI_TYPE, ABI_FIELD, ABI_PAD), or mark it "
              "ABI_NOT_IN_XEN_HEADERS(xa::name, \"where the fact comes from\").")
        return 1
    print(f"abi coverage: all {total} declarations in {header_dir} (enumerators, constants, helpers, "
          "structs and their fields) are compared with Xen's headers or marked as not in them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
