#!/usr/bin/python3
"""A VCPUOP wrapper compiles down to register loads and one hypercall.

Disassembles the probe functions (hypercall_codegen.cpp, built at -O2 with
the kernel flags) and checks that each consists only of register and stack
moves and arithmetic, exactly one `call` whose target is
xenvcpu_hypercall_page + OFFSET (vcpu_op is hypercall 24, so 24 * 32 = 0x300),
the errno conversion after it (a `neg`: Xen returns -errno), and no other
call, no indirect jump, no memory access except to its own stack frame.
The listing is printed for the test log.

usage: codegen_check.py OBJECT_OR_ARCHIVE OBJDUMP OFFSET FUNCTION...
"""
import re
import subprocess
import sys

PAGE = "xenvcpu_hypercall_page"
# Moves, arithmetic and the frame: everything a wrapper may contain besides
# its single call, its conditional branches and `ret`.
PLAIN = re.compile(r"^(mov|movabs|movzx|movsx|movsxd|lea|xor|and|or|not|neg|test|cmp|add|sub|shl|shr|sar"
                   r"|set[a-z]+|cmov[a-z]+|push|pop|leave|ret|endbr64)$")


def listing(objdump, path):
    """{function: [(address, text, [relocations])]} from objdump -dr."""
    out = subprocess.run([objdump, "-d", "-r", "-w", "--no-show-raw-insn", "-M", "intel", path],
                         check=True, capture_output=True, text=True).stdout
    funcs, current = {}, None
    for line in out.splitlines():
        if (m := re.match(r"^[0-9a-f]+ <(\S+)>:$", line)):
            current = funcs.setdefault(m.group(1), [])
        elif current is not None and (m := re.match(r"^\s+[0-9a-f]+: (R_X86_64_\w+)\s+(\S+)$", line)):
            current[-1][2].append((m.group(1), m.group(2)))
        elif current is not None and (m := re.match(r"^\s+([0-9a-f]+):\s+(.+?)\s*$", line)):
            # With -w a relocation may share the instruction's line.
            text, *inline = re.split(r"\s+[0-9a-f]+: (?=R_X86_64_)", m.group(2))
            relocs = [tuple(r.split(None, 1)) for r in inline]
            current.append((int(m.group(1), 16), text.strip(), relocs))
    return funcs


def call_target(relocs):
    """Page offset a `call rel32` lands on, from its PC-relative relocation:
    target = symbol + addend + 4 (rel32 is the instruction's last 4 bytes)."""
    for kind, target in relocs:
        if kind in ("R_X86_64_PC32", "R_X86_64_PLT32") and (m := re.match(PAGE + r"([+-]0x[0-9a-f]+)?$", target)):
            return int(m.group(1) or "0", 16) + 4
    return None


def check(name, insns, offset):
    problems, calls, negs_after_call = [], 0, 0
    for addr, text, relocs in insns:
        mnemonic, _, operands = text.partition(" ")
        operands = operands.strip()
        if "nop" in text.split():  # alignment padding
            continue
        if mnemonic == "call":
            calls += 1
            got = call_target(relocs)
            if got != offset:
                problems.append(f"{addr:#x}: call not to {PAGE}+{offset:#x}: {text} {relocs}")
            continue
        if mnemonic.startswith("j"):
            if relocs or not re.match(r"^[0-9a-f]+ <" + re.escape(name) + r"(\+0x[0-9a-f]+)?>$", operands):
                problems.append(f"{addr:#x}: jump out of the function or indirect: {text}")
            continue
        if not PLAIN.match(mnemonic):
            problems.append(f"{addr:#x}: unexpected instruction: {text}")
        if "[" in operands and not re.search(r"\[(rsp|rbp)([+-]0x[0-9a-f]+)?\]", operands):
            problems.append(f"{addr:#x}: memory access outside the stack frame: {text}")
        if relocs:
            problems.append(f"{addr:#x}: refers to a symbol: {text} {relocs}")
        if mnemonic == "neg" and calls:
            negs_after_call += 1
    if calls != 1:
        problems.append(f"{calls} calls (want exactly one)")
    if negs_after_call == 0:
        problems.append("no errno conversion (neg) after the call")
    return problems


def main():
    path, objdump, offset, names = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), sys.argv[4:]
    funcs = listing(objdump, path)
    failures = 0
    for name in names:
        print(f"<{name}>:")
        if name not in funcs:
            print("  FAIL not found in the object")
            failures += 1
            continue
        for addr, text, relocs in funcs[name]:
            print(f"  {addr:4x}: {text}" + "".join(f"    # {k} {t}" for k, t in relocs))
        problems = check(name, funcs[name], offset)
        for p in problems:
            print(f"  FAIL {p}")
        useful = [i for i in funcs[name] if "nop" not in i[1].split()]
        if problems:
            print(f"  FAIL: {len(problems)} problem(s)")
        else:
            print(f"  ok: {len(useful)} instructions, one call to {PAGE}+{offset:#x}, errno negated after it")
        failures += bool(problems)
        print()
    print(f"codegen: {len(names) - failures} of {len(names)} wrappers are register loads, one hypercall "
          "and the errno conversion")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
