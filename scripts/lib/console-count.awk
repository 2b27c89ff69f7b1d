# Counts a console-flood test's lines as they reached dom0 (run by dom0's
# /init over the guest's console as xenconsole relayed it; busybox awk).
# The guest prints (tests/guest/console-flood/):
#     # console-flood: begin vcpus=V lines=L
#     # console-flood: line V.I <pad> end V.I     <pad>: (I*7+V)%40+10 times the letter 'a'+V%26
#     # console-flood: end
# A line is whole when its fields parse and agree; in order when I is the
# next number of its vCPU. Prints one line for dom0's log:
#     dom0| console-flood: N of N lines from V vCPUs arrived whole and in order
# or a "dom0| check failed: console-flood: ..." line, which fails the run
# (docs/domu.md). No begin line: prints nothing.
{ sub(/\r$/, "") }
/^# console-flood: begin / {
    begun = 1
    for (i = 1; i <= NF; i++) {
        if ($i ~ /^vcpus=/) vcpus = substr($i, 7) + 0
        if ($i ~ /^lines=/) lines = substr($i, 7) + 0
    }
    next
}
/^# console-flood: end$/ { ended = 1; next }
/console-flood: line / {
    if (!begun) next
    # Whole: exactly "# console-flood: line V.I PAD end V.I".
    ok = NF == 7 && $1 == "#" && $2 == "console-flood:" && $3 == "line" && $6 == "end" && $4 == $7
    if (ok) {
        split($4, id, ".")
        v = id[1] + 0; n = id[2] + 0
        want = (n * 7 + v) % 40 + 10
        letter = substr("abcdefghijklmnopqrstuvwxyz", v % 26 + 1, 1)
        pad = $5
        ok = length(pad) == want && v < vcpus && id[1] "." id[2] == $4
        if (ok) { gsub(letter, "", pad); ok = pad == "" }
    }
    if (!ok) { broken++; if (first_broken == "") first_broken = $0; next }
    if (n != next_of[v] + 0) {
        disorder++
        if (first_disorder == "") first_disorder = "vCPU " v " line " n " where line " next_of[v] + 0 " was due"
    }
    next_of[v] = n + 1
    got[v]++
    total++
}
END {
    if (!begun) exit 0
    short = ""
    for (v = 0; v < vcpus; v++)
        if (got[v] + 0 != lines) short = short (short == "" ? "" : ",") " vCPU " v ": " got[v] + 0 " of " lines
    want_total = vcpus * lines
    if (ended && short == "" && broken + 0 == 0 && disorder + 0 == 0) {
        printf "dom0| console-flood: %d of %d lines from %d vCPUs arrived whole and in order\n", total, want_total, vcpus
        exit 0
    }
    printf "dom0| check failed: console-flood: %d of %d lines arrived whole (%d broken, %d out of order%s)%s%s\n", \
        total + 0, want_total, broken + 0, disorder + 0, ended ? "" : ", no end line", short == "" ? "" : ":" short, \
        first_broken == "" ? "" : "; first broken: '" first_broken "'"
    if (first_disorder != "") printf "dom0| console-flood: first out of order: %s\n", first_disorder
}
