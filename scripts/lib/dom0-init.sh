#!/bin/sh
# /init of the dom0 that `scripts/boot --domu` boots (busybox sh). It starts
# Xen's toolstack, creates the guest from /domu/domu.cfg paused, attaches its
# console, unpauses it, runs the plan in /domu/plan (one step a line) while
# the guest runs, waits for the guest to end and resets the machine.
#
# What it prints on hvc0 (Xen copies it to the serial line):
#   "domu| <line>"   every line of the guest's console, as it comes
#   "dom0| <line>"   the toolstack's own lines: steps, xl output, checks
#   "dom0| check failed: ..."   a plan check that failed (the harness fails the run)
#   "dom0| plan done at T s"    every step of the plan ran
#   "dom0| end: <why>"          the last line before the reset
# The toolstack's own directory: /usr/lib/xen-4.17/bin or /usr/lib/xen-4.20/bin,
# whichever the image carries (scripts/lib/dom0-image.sh).
PATH=/bin
for d in /usr/lib/xen-*/bin; do PATH=$PATH:$d; done
export PATH
say() { echo "dom0| $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# xenconsole takes a lock file in /var/lock; the toolstack keeps state in
# /run/xen (/var/run points to /run: libxl's domid-history lock is there).
mkdir -p /run/xen /run/lock /var/lib/xen /var/lib/xenstored /var/log/xen/console
# xen-privcmd before xenfs, which uses it.
for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs; do
    insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
mount -t xenfs xenfs /proc/xen
# A disk for save-to-disk / restore-from-disk (scripts/boot --disk): the
# virtio drivers only then, in dependency order.
disk=/dev/vda
if [ -e /domu/disk ]; then
    for m in virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
        insmod "/lib/modules/$m.ko" || say "insmod $m failed"
    done
fi

end() { say "end: $*"; sync; reboot -f; sleep 5; }

# Order matters: xenstored first (everything talks to it), then
# xen-init-dom0 (dom0's own xenstore entries), then xenconsoled (it watches
# xenstore for guests' consoles).
xenstored --pid-file /run/xen/xenstored.pid || end "xenstored did not start"
xen-init-dom0 >/tmp/init-dom0.log 2>&1 || { cat /tmp/init-dom0.log; end "xen-init-dom0 failed"; }
xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console \
    || end "xenconsoled did not start"
say "toolstack ready at $(cut -d' ' -f1 /proc/uptime) s"

# The console client reads its stdin from a FIFO that stays open: on a tty
# it would switch the terminal to raw mode, and on /dev/null it would exit
# at once. The same FIFO carries the plan's `type` steps to the guest's
# console. It is what `xl console` runs, with --interactive added: without
# it xenconsole reads no stdin that is not a tty.
mkfifo /tmp/console-in
exec 3<>/tmp/console-in
# fd 4: the console, for the relay started from inside a plan step (whose
# own output is collected in a file first).
exec 4>&1
: >/tmp/domu.out
# attach_console DOMID: relay the guest's console; return once xenconsole
# holds the guest's pty, so that unpausing the guest loses no output. A
# restored or migrated guest is a new domain with a new console: the client
# of the old one ends with it (or is ended here after 2 s).
attach_console() {
    old=$(cat /tmp/console.pid 2>/dev/null || true)
    if [ -n "$old" ]; then
        n=0
        while [ -d "/proc/$old" ] && [ $n -lt 40 ]; do sleep 0.05; n=$((n + 1)); done
        [ -d "/proc/$old" ] && kill "$old" 2>/dev/null
        sleep 0.1
    fi
    : >/tmp/console.pid
    ( xenconsole --interactive --type pv "$1" <&3 2>&1 & echo $! >/tmp/console.pid; wait ) \
        | awk '{ sub(/\r$/, ""); print "domu| " $0; fflush(); print $0 >> "/tmp/domu.out"; close("/tmp/domu.out") }' >&4 2>&1 &
    echo $! >/tmp/relay.pid
    n=0
    while :; do
        pid=$(cat /tmp/console.pid)
        if [ -n "$pid" ]; then
            # No glob: plan steps run under set -f.
            # shellcheck disable=SC2012,SC2045
            for fd in $(ls /proc/"$pid"/fd 2>/dev/null); do
                case $(readlink "/proc/$pid/fd/$fd" 2>/dev/null) in /dev/pts/*) return 0 ;; esac
            done
        fi
        n=$((n + 1))
        if [ $n -ge 200 ]; then
            # shellcheck disable=SC2012  # for the log only
            say "xenconsole (pid ${pid:-none}) holds no pty of domain $1 after 10 s; its fds: $(ls -l /proc/"$pid"/fd 2>&1 | tr '\n' ' ')"
            return 1
        fi
        sleep 0.05
    done
}

# A plan that starts with restore-from-disk brings its guest from the disk:
# nothing is created.
if [ "$(head -n1 /domu/plan 2>/dev/null)" != restore-from-disk ]; then
    xl create -p /domu/domu.cfg >/tmp/create.log 2>&1 || { sed 's/^/dom0| /' /tmp/create.log; end "xl create failed"; }
    domid=$(xl domid domu)
    say "created domu as domain $domid"
    attach_console "$domid" || { sed 's/^/dom0| /' /tmp/domu.out; end "xl console did not attach"; }
    xl unpause domu || end "xl unpause failed"
    say "unpaused at $(cut -d' ' -f1 /proc/uptime) s"
fi

# Whether the guest still runs. Its shutdown keeps the domain (on_* =
# preserve: xl renames it to domu--<time>), so that xenconsoled can still
# hand over what it holds of its console; renamed, shut down or crashed is
# ended. One failed `xl list` is not proof: five in a row, 0.2 s apart; a
# failure followed by success is logged with xl's message.
alive() {
    tries=0
    until xl list domu >/tmp/alive.out 2>&1; do
        tries=$((tries + 1))
        [ $tries -lt 5 ] || return 1
        cp /tmp/alive.out /tmp/alive.failed
        sleep 0.2
    done
    [ $tries = 0 ] || say "xl list failed $tries time(s) while the guest ran: $(tr '\n' ' ' </tmp/alive.failed)"
    case $(awk 'NR == 2 { print $5 }' /tmp/alive.out) in
    *s* | *c* | *d*) return 1 ;; # shut down, crashed, dying
    esac
    return 0
}

# ---- lifecycle steps: save, restore, checkpoint, migrate -------------------
# Every time is dom0's view, from /proc/uptime (10 ms resolution), in ms.
uptime_s() { cut -d' ' -f1 /proc/uptime; }
# busybox wc reads a whole file, and a save image is tens of MB.
# shellcheck disable=SC2012  # plain names in /tmp
file_size() { ls -ln "$1" | awk '{ print $5 }'; }
ms_between() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%d", (b - a) * 1000 }'; }
# `wait` looks only at the guest's lines after this one: a lifecycle step
# moves it to the end, so that a later `wait` proves the guest ran after it.
mark=0
set_mark() { mark=$(wc -l </tmp/domu.out); }
# The time from the start of the last suspend (xl save, ...) to the guest's
# unpause, written to the guest's data/suspended-ms once it runs again.
suspended_from=""
note_resumed() { # step name, uptime at unpause
    [ -n "$suspended_from" ] || return 0
    ms=$(ms_between "$suspended_from" "$2")
    if [ "$1" = migrate ]; then
        # The guest ran on through the live phase: no suspended time to tell.
        say "$1: from the start of xl migrate to the unpause: $ms ms"
        return 0
    fi
    say "$1: suspended to resumed in $ms ms (dom0's view: start of the suspend to unpause)"
    xenstore-write "/local/domain/$domid/data/suspended-ms" "$ms"
}
# run_xl WHAT CMD...: run xl, its output as dom0 lines; a failure is a check.
run_xl() {
    what=$1; shift
    "$@" >/tmp/xl.out 2>&1
    rc=$?
    sed 's/^/dom0| /' /tmp/xl.out
    [ $rc = 0 ] || say "check failed: $what failed (exit $rc)"
    return $rc
}
# resume_new_domain STEP: the guest came back paused as a new domain; attach
# its console and let it run.
resume_new_domain() {
    domid=$(xl domid domu) || { say "check failed: $1: no domain named domu afterwards"; return 1; }
    attach_console "$domid" || { say "check failed: $1: the console of domain $domid did not attach"; return 1; }
    xl unpause domu || { say "check failed: $1: xl unpause failed"; return 1; }
    t=$(uptime_s)
    say "$1: domu is domain $domid, running again at $t s"
    note_resumed "$1" "$t"
}
save_to() { # file
    set_mark
    a=$(uptime_s)
    suspended_from=$a
    run_xl "xl save" xl save domu "$1" || return 1
    b=$(uptime_s)
    say "save: xl save took $(ms_between "$a" "$b") ms, image $(file_size "$1") bytes"
}
restore_from() { # file
    set_mark
    a=$(uptime_s)
    # Paused, so that its console is attached before it prints.
    run_xl "xl restore" xl restore -p "$1" || return 1
    say "restore: xl restore took $(ms_between "$a" "$(uptime_s)") ms"
    resume_new_domain restore
}
# wait_new TEXT: up to 20 s for TEXT in the guest's lines since the mark.
wait_new() {
    i=0
    until tail -n +$((mark + 1)) /tmp/domu.out | grep -qF -- "$*"; do
        i=$((i + 1))
        [ $i -le 400 ] || return 1
        sleep 0.05
    done
}
save_cycles() { # N [TEXT]
    cycles=$1; shift
    c=1 list=""
    while [ "$c" -le "$cycles" ]; do
        save_to /tmp/domu.save >/tmp/cycle.out 2>&1 && restore_from /tmp/domu.save >>/tmp/cycle.out 2>&1
        rc=$?
        if [ $rc != 0 ]; then
            cat /tmp/cycle.out
            say "check failed: save-cycles: cycle $c of $cycles failed"
            return 1
        fi
        ms=$(sed -n 's/.*suspended to resumed in \([0-9]*\) ms.*/\1/p' /tmp/cycle.out)
        list="$list $ms"
        if [ $# -gt 0 ] && ! wait_new "$*"; then
            cat /tmp/cycle.out
            say "check failed: save-cycles: after cycle $c the guest did not print '$*' within 20 s"
            return 1
        fi
        say "save-cycles: cycle $c of $cycles: suspended to resumed in $ms ms, domain $domid"
        c=$((c + 1))
    done
    rm -f /tmp/domu.save
    # shellcheck disable=SC2086  # one figure a line
    say "save-cycles: $cycles cycles done; suspended to resumed (ms):$list; $(printf '%s\n' $list | sort -n | awk '{ v[NR] = $1 } END { printf "min %d, median %d, max %d", v[1], v[int((NR + 1) / 2)], v[NR] }')"
}
checkpoint() {
    set_mark
    a=$(uptime_s)
    run_xl "xl save -c" xl save -c domu /tmp/domu.ckpt || return 1
    b=$(uptime_s)
    say "checkpoint: xl save -c took $(ms_between "$a" "$b") ms (the guest was suspended for part of it), image $(file_size /tmp/domu.ckpt) bytes"
    rm -f /tmp/domu.ckpt
    alive || { say "check failed: checkpoint: domu did not run on"; return 1; }
    xenstore-write "/local/domain/$domid/data/suspended-ms" "$(ms_between "$a" "$b")"
}
migrate() {
    set_mark
    a=$(uptime_s)
    suspended_from=$a
    # To this same dom0, over a pipe: with -s '' xl runs the "host" as the
    # receiver's command line. The receiver leaves the guest paused (-p) so
    # that its new console is attached before it runs on.
    if ! run_xl "xl migrate" xl migrate -s '' domu 'xl migrate-receive -p'; then
        if grep -q 'logdirty: 95' /tmp/xl.out; then
            say "check failed: migrate: Xen refused log-dirty mode (EOPNOTSUPP): a PV guest needs shadow paging, which this Xen is built without"
        fi
        return 1
    fi
    say "migrate: xl migrate took $(ms_between "$a" "$(uptime_s)") ms (the whole live migration)"
    resume_new_domain migrate
}
# The disk holds one save image: a 512-byte header "xenvcpu-save SIZE UPTIME"
# and the image from 1 MiB on.
save_to_disk() {
    [ -b $disk ] || { say "check failed: save-to-disk: no disk (scripts/boot --disk FILE)"; return 1; }
    save_to /tmp/domu.save || return 1
    size=$(file_size /tmp/domu.save)
    if ! { printf 'xenvcpu-save %s %s\n' "$size" "$suspended_from" | dd of=$disk bs=512 count=1 conv=sync 2>/dev/null \
        && dd if=/tmp/domu.save of=$disk bs=1M seek=1 2>/dev/null && sync; }; then
        say "check failed: save-to-disk: writing the disk failed"
        return 1
    fi
    rm -f /tmp/domu.save
    say "save-to-disk: $size bytes on the disk; saved at dom0 uptime $suspended_from s"
}
restore_from_disk() {
    i=0
    while [ ! -b $disk ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    [ -b $disk ] || { say "check failed: restore-from-disk: no disk (scripts/boot --disk FILE)"; return 1; }
    read -r magic size saved_at <<EOF_HDR
$(head -c 512 $disk | head -n 1)
EOF_HDR
    [ "$magic" = xenvcpu-save ] || { say "check failed: restore-from-disk: no save image on the disk"; return 1; }
    dd if=$disk bs=1M skip=1 count=$(((size >> 20) + 1)) 2>/dev/null | head -c "$size" >/tmp/domu.save
    say "restore-from-disk: $size bytes, saved at dom0 uptime $saved_at s of an earlier boot; restoring at $(uptime_s) s"
    suspended_from=""
    restore_from /tmp/domu.save || return 1
    rm -f /tmp/domu.save
}

# Plan steps (docs/domu.md): an xl subcommand gets the guest's name as its
# first argument (sched-credit and sched-credit2 get `-d domu`); and
#   sleep S          wait S seconds
#   wait TEXT        wait (up to 20 s) until the guest printed a line containing TEXT
#   type TEXT        send TEXT and a newline to the guest's console input
#   pause-for S      xl pause, sleep S, xl unpause; write the paused time
#                    in ms (dom0's view) to the guest's data/paused-ms
#   xs-write K V     write V at K under the guest's xenstore home
#   expect-vcpus N   within 3 s, `xl vcpu-list` shows exactly N vCPUs online
#   save, restore    xl save domu to a file in dom0, xl restore it
#   save-cycles N [TEXT]  N saves and restores in a row (after each, TEXT)
#   checkpoint       xl save -c: the guest runs on
#   migrate          live migration to this same dom0
#   save-to-disk, restore-from-disk   a save image on scripts/boot's --disk
#   repeat N ... end the steps between, N rounds (run_repeat below)
step() {
    # Split the step into words, on purpose (no globbing: set -f below).
    # shellcheck disable=SC2086
    set -- $1
    [ $# -gt 0 ] || return 0
    cmd=$1
    shift
    case $cmd in
    sleep) sleep "$1" ;;
    wait)
        i=0
        until tail -n +$((mark + 1)) /tmp/domu.out | grep -qF -- "$*"; do
            i=$((i + 1))
            [ $i -le 400 ] || { say "check failed: the guest did not print '$*' within 20 s"; return 1; }
            if ! alive; then
                # Its last lines may still be on their way through xl console;
                # a guest that ended is judged by its own TAP stream.
                sleep 0.5
                tail -n +$((mark + 1)) /tmp/domu.out | grep -qF -- "$*" || say "the guest ended before it printed '$*'"
                return 0
            fi
            sleep 0.05
        done ;;
    type) printf '%s\n' "$*" >&3 ;;
    pause-for)
        # How long the domain was paused, as dom0 sees it: from xl pause's
        # return to xl unpause's (each acts just before it returns).
        xl pause domu
        a=$(cut -d' ' -f1 /proc/uptime)
        sleep "$1"
        xl unpause domu
        b=$(cut -d' ' -f1 /proc/uptime)
        ms=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%d", (b - a) * 1000 }')
        say "paused for $ms ms"
        xenstore-write "/local/domain/$domid/data/paused-ms" "$ms" ;;
    xs-write) xenstore-write "/local/domain/$domid/$1" "$2" ;;
    expect-vcpus)
        i=0
        while :; do
            online=$(xl vcpu-list domu | awk 'NR > 1 && $4 != "-" { n++ } END { print n + 0 }')
            [ "$online" = "$1" ] && { say "check ok: xl vcpu-list shows $online vCPUs online"; break; }
            i=$((i + 1))
            if [ $i -gt 60 ]; then
                say "check failed: xl vcpu-list shows $online vCPUs online, expected $1"
                xl vcpu-list domu | sed 's/^/dom0| /'
                return 1
            fi
            sleep 0.05
        done ;;
    save) save_to /tmp/domu.save ;;
    restore)
        [ -f /tmp/domu.save ] || { say "check failed: restore: no saved image (a save step first)"; return 1; }
        restore_from /tmp/domu.save && rm -f /tmp/domu.save ;;
    save-cycles) save_cycles "$@" ;;
    checkpoint) checkpoint ;;
    migrate) migrate ;;
    save-to-disk) save_to_disk ;;
    restore-from-disk) restore_from_disk ;;
    sched-credit|sched-credit2) xl "$cmd" -d domu "$@" ;;
    # More vCPUs than pCPUs is a case we test on purpose; xl refuses it
    # ("You are overcommmitting!") unless told otherwise.
    vcpu-set) xl vcpu-set --ignore-host domu "$@" ;;
    *) xl "$cmd" domu "$@" ;;
    esac
}

# `repeat N`, the steps up to `end` (in /tmp/repeat.plan), then `end`: the
# steps N rounds over. The first round logs each step as the plan does; later
# rounds log only a failed one. After each round: `repeat: round R of N done
# at T s`. The first step that fails (a failed check, a failed xl) ends the
# repeat, and the plan goes on after `end`.
run_repeat() {
    n=$(printf "%s" "$1" | tr -d " ") r=1
    case $n in '' | *[!0-9]*) say "check failed: repeat needs a count, not '$n'"; return 1 ;; esac
    while [ "$r" -le "$n" ]; do
        while IFS= read -r sub; do
            alive || { say "the guest ended in round $r of $n before step: $sub"; return 1; }
            [ "$r" -gt 1 ] || say "step: $sub ($(cut -d' ' -f1 /proc/uptime) s)"
            if step "$sub" >/tmp/step.out 2>&1 </dev/null; then
                [ "$r" -gt 1 ] || awk '/^dom0\| / { print; next } { print "dom0| " $0 }' /tmp/step.out
            else
                awk '/^dom0\| / { print; next } { print "dom0| " $0 }' /tmp/step.out
                say "repeat: round $r of $n stopped at step: $sub"
                return 1
            fi
        done </tmp/repeat.plan
        say "repeat: round $r of $n done at $(cut -d' ' -f1 /proc/uptime) s"
        r=$((r + 1))
    done
}

set -f  # plan steps are split into words, never globbed
if [ -s /domu/plan ]; then
    done_all=1
    while IFS= read -r line; do
        case $line in
        restore|restore-from-disk) ;;  # the guest is gone until it runs
        *) alive || { say "the guest ended before step: $line"; done_all=0; break; } ;;
        esac
        case $line in
        repeat | "repeat "*)
            : >/tmp/repeat.plan
            while IFS= read -r sub && [ "$sub" != end ]; do printf '%s\n' "$sub" >>/tmp/repeat.plan; done
            say "step: $line, $(wc -l </tmp/repeat.plan) steps a round ($(cut -d' ' -f1 /proc/uptime) s)"
            run_repeat "${line#repeat}" || true
            continue ;;
        esac
        say "step: $line ($(cut -d' ' -f1 /proc/uptime) s)"
        step "$line" >/tmp/step.out 2>&1
        awk '/^dom0\| / { print; next } { print "dom0| " $0 }' /tmp/step.out
    done </domu/plan
    [ $done_all = 0 ] || say "plan done at $(cut -d' ' -f1 /proc/uptime) s"
else
    say "plan done at $(cut -d' ' -f1 /proc/uptime) s"
fi

while alive; do sleep 0.1; done
t_end=$(cut -d' ' -f1 /proc/uptime)
# The guest has ended, but not all of its console may have reached us:
# xenconsoled read the ring into its log at once, and hands the pty what
# the relay (xenconsole, awk, hvc0, Xen's serial line) takes, far slower
# under a flood. Measured before the domain was kept: 4015 lines in
# xenconsoled's log, 1106 relayed, the rest dropped when the domain was
# destroyed. So wait until the relay has every line of the log (giving up
# after 10 s without progress), then destroy the domain.
log=/var/log/xen/console/guest-domu.log
still=0 last=-1
while :; do
    logged=$(wc -l <"$log" 2>/dev/null || echo 0)
    relayed=$(wc -l </tmp/domu.out)
    [ "$relayed" -lt "$logged" ] || break
    if [ "$relayed" = "$last" ]; then
        still=$((still + 1))
        [ $still -lt 100 ] || { say "the relay stopped at $relayed of the $logged lines xenconsoled logged"; break; }
    else
        still=0 last=$relayed
    fi
    sleep 0.1
done
xl destroy "$domid" >/dev/null 2>&1
# xenconsole ends with the domain, and the relay once it has printed the
# rest. Wait for both (at most 10 s) before the reset takes what they hold.
n=0
# shellcheck disable=SC2013  # one pid a file
for pid in $(cat /tmp/console.pid /tmp/relay.pid 2>/dev/null); do
    while [ -d "/proc/$pid" ] && [ $n -lt 200 ]; do sleep 0.05; n=$((n + 1)); done
done
sleep 0.2
# A console-flood test: count what reached dom0, as xenconsoled logged it
# straight from the ring (console-count.awk).
[ -f /domu/console-count.awk ] && awk -f /domu/console-count.awk "$log"
# How the guest ended, as xl's monitor saw it (reason code 0 poweroff,
# 1 reboot, 2 suspend, 3 crash), and xenconsoled's count of the guest's
# lines next to the relay's.
if [ -f /var/log/xen/xl-domu.log ]; then
    grep -i "shut down\|reason\|crash" /var/log/xen/xl-domu.log | tail -n 2 | sed 's/^/dom0| xl: /'
fi
say "guest console lines: $(wc -l <"$log" 2>/dev/null || echo 0) in xenconsoled's log, $(wc -l </tmp/domu.out) relayed"
end "domu ended at $t_end s"
