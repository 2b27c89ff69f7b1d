# The serial filter of scripts/boot: reads the machine's raw serial stream
# (COM1, CR LF line endings) line by line, prints the guest's TAP stream on
# stdout, stops QEMU when the run is over before QEMU knows it, and at the end
# writes what it saw to the file `state`, one "key=value" line per key, for
# scripts/boot to judge the run (docs/boot-harness.md).
#
#   awk -f scripts/lib/serial-filter.awk -v state=FILE [-v qpid=PGID]
#       [-v domu=1] [-v not_ok_file=FILE] [-v dom0_file=FILE]   <serial
#
#   state        where the keys go at the end (required)
#   qpid         the process group of timeout(1) and QEMU, stopped when the
#                run is over (a panic, a crash, a halt, the --expect line);
#                empty: nothing is stopped (the filter alone on a log)
#   domu         1: the guest is a domU, its console relayed by a Linux dom0
#                as "domu| " lines, the plan's steps as "dom0| " lines
#   not_ok_file  every failing result line goes there (default: nowhere)
#   dom0_file    every failed check of the plan goes there (default: nowhere)
#   the environment's XV_EXPECT: a regular expression (awk ERE) for a kernel
#                that speaks no TAP (scripts/boot --expect); taken from the
#                environment because -v would read its backslashes as escapes
#
# Keys written, each once and in this order: started, plan, results, failed,
# bailed, panic, crashed, stopped, dom0_failed, matched, plan_done, sequence,
# misplaced, last_dom0, last_tap, last_serial. A value is the rest of its line,
# as it is (the last_* keys hold whole lines of the guest; the line endings'
# CRs are gone).
#
# What arrives on the serial line: Xen's own lines start "(XEN) "; dom0's
# console_io output comes bare; lines a PVH guest writes to the HVM debug
# port start "(d0) " or "(d0v1) ". From the first "TAP version N" line on,
# only lines in TAP grammar reach stdout.

BEGIN {
    expect = ENVIRON["XV_EXPECT"]
    if (state == "") {
        print "serial-filter.awk: no -v state=FILE" > "/dev/stderr"
        exit 2
    }
    if (not_ok_file == "") not_ok_file = "/dev/null"
    if (dom0_file == "") dom0_file = "/dev/null"
}

# timeout(1) puts itself and QEMU in a process group of their own: TERM
# both, and KILL them 10 s later if QEMU is still there (once, under load,
# a TERM relayed by timeout alone left QEMU running to the deadline).
function stop_qemu(why) {
    if (stopped) return
    stopped = why
    # (system() runs /bin/sh, whose kill may not take "--": -PGID alone.)
    if (qpid != "")
        system("kill -TERM -" qpid " 2>/dev/null; (sleep 10; kill -KILL -" qpid ") </dev/null >/dev/null 2>&1 &")
}

# A line of Xen's: watch for the ends of a run that leave QEMU running.
function xen_line(line) {
    if (line ~ /Panic on CPU/) panic = 1
    # After a panic or a dom0 crash Xen waits 5 s before it resets the
    # machine; nothing more will come, so end the run now.
    if (line ~ /Hardware Dom[0-9]+ crashed/) { crashed = 1; stop_qemu("crashed") }
    if (panic && line ~ /Reboot in five seconds/) stop_qemu("panic")
    # A dom0 power-off halts the machine; QEMU would wait for the timeout.
    if (line ~ /Hardware Dom[0-9]+ halted: halting machine/) stop_qemu("halted")
    if (line ~ /Manual reset required/) stop_qemu("noreboot")
}

# A line of the Linux dom0's own ("dom0| "): the plan's progress.
function dom0_line(line) {
    last_dom0 = line
    if (line ~ /^dom0\| check failed/) {
        dom0_failed++; print line > dom0_file
        # A guest judged by --expect may never end on its own.
        if (expect != "") stop_qemu("check")
    }
    if (line ~ /^dom0\| plan done/) {
        plan_done = 1
        if (matched) stop_qemu("expected")
    }
}

# A result line ("ok ..." or "not ok ..."): count it and check its number.
function result_line(line,    num, after) {
    results++
    if (line ~ /^not ok/ && line !~ /#[ \t]*[Tt][Oo][Dd][Oo]/) { failed++; print line > not_ok_file }
    # Results are numbered 1, 2, 3...: a gap means lines were lost on the
    # way (the plan, printed last, still counts them).
    num = line; sub(/^(not )?ok[ \t]*/, "", num)
    if (num ~ /^[0-9]+/ && sequence == "") {
        sub(/[^0-9].*$/, "", num); num += 0
        after = results > 1 ? "the one after " (results - 1) : "the first"
        if (num > results + 0)
            sequence = (num - 1 > results ? "results " results " to " (num - 1) " are" : "result " results " is") \
                " missing (" after " is numbered " num ")"
        else if (num < results + 0)
            sequence = "result " results " is numbered " num ", out of order"
    }
    # A plan after results ends the stream: nothing may follow it.
    if (plan != "" && plan_at > 0 && misplaced == "") misplaced = "a result after the plan at the end"
}

{
    sub(/\r+$/, "")
    line = $0
    if (line ~ /[^ ]/) last_serial = line
    if (line ~ /^\(XEN\)/) { xen_line(line); next }
    if (domu) {
        # Dom0 (Linux) writes "dom0| " lines of its own and relays the
        # console of the domU as "domu| " lines; its kernel log is not ours.
        if (line ~ /^dom0\| /) { dom0_line(line); next }
        if (line !~ /^domu\| /) next
        sub(/^domu\| /, "", line)
    } else
        sub(/^\(d[0-9]+(v[0-9]+)?\) /, "", line)
    if (expect != "") {
        # A kernel that speaks no TAP: pass it on, and end at the line.
        print line; fflush()
        # With --domu the plan must have run to its end too.
        if (!matched && line ~ expect) { matched = 1; if (!domu || plan_done) stop_qemu("expected") }
        next
    }
    if (!started) {
        if (line ~ /^TAP version [0-9]+[ \t]*$/) { started = 1; print line; fflush() }
        next
    }
    if (line ~ /^(ok|not ok)([ \t]|$)/) {
        result_line(line)
    } else if (line ~ /^1\.\.[0-9]+/) {
        if (plan == "") { plan = line; sub(/^1\.\./, "", plan); sub(/[^0-9].*$/, "", plan); plan_at = results }
        else if (misplaced == "") misplaced = "a second plan"
    } else if (line ~ /^Bail out!/) {
        bailed = 1
    } else if (line !~ /^#/ && line !~ /^[ \t]/) {
        next  # the guest printed something that is not TAP: the log keeps it
    }
    print line; fflush()
    last_tap = line
}

END {
    if (state == "") exit 2
    printf "started=%d\nplan=%s\nresults=%d\nfailed=%d\nbailed=%d\npanic=%d\ncrashed=%d\nstopped=%s\n", \
        started, plan, results, failed, bailed, panic, crashed, stopped > state
    printf "dom0_failed=%d\nmatched=%d\nplan_done=%d\nsequence=%s\nmisplaced=%s\n", \
        dom0_failed, matched, plan_done, sequence, misplaced > state
    printf "last_dom0=%s\nlast_tap=%s\nlast_serial=%s\n", last_dom0, last_tap, last_serial > state
    close(state)
}
