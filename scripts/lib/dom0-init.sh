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
#   "dom0| end: <why>"          the last line before the reset
export PATH=/bin:/usr/lib/xen-4.17/bin
say() { echo "dom0| $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# xenconsole takes a lock file in /var/lock; the toolstack keeps state in /run/xen.
mkdir -p /run/xen /run/lock /var/run /var/lib/xen /var/lib/xenstored /var/log/xen/console
# xen-privcmd before xenfs, which uses it.
for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs; do
    insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done
mount -t xenfs xenfs /proc/xen

end() { say "end: $*"; sync; reboot -f; sleep 5; }

# Order matters: xenstored first (everything talks to it), then
# xen-init-dom0 (dom0's own xenstore entries), then xenconsoled (it watches
# xenstore for guests' consoles).
xenstored --pid-file /run/xen/xenstored.pid || end "xenstored did not start"
xen-init-dom0 >/tmp/init-dom0.log 2>&1 || { cat /tmp/init-dom0.log; end "xen-init-dom0 failed"; }
xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console \
    || end "xenconsoled did not start"
say "toolstack ready at $(cut -d' ' -f1 /proc/uptime) s"

xl create -p /domu/domu.cfg >/tmp/create.log 2>&1 || { sed 's/^/dom0| /' /tmp/create.log; end "xl create failed"; }
domid=$(xl domid domu)
say "created domu as domain $domid"

# The console client reads its stdin from a FIFO that stays open: on a tty
# it would switch the terminal to raw mode, and on /dev/null it would exit
# at once. The same FIFO carries the plan's `type` steps to the guest's
# console. It is what `xl console` runs, with --interactive added: without
# it xenconsole reads no stdin that is not a tty.
mkfifo /tmp/console-in
exec 3<>/tmp/console-in
: >/tmp/domu.out
( xenconsole --interactive --type pv "$domid" <&3 2>&1 | awk '{ sub(/\r$/, ""); print "domu| " $0; fflush(); print $0 >> "/tmp/domu.out"; close("/tmp/domu.out") }' ) &
# Unpause only once xenconsole holds the guest's pty, so no output is lost.
n=0
while :; do
    pid=$(pidof xenconsole || true)
    attached=0
    for fd in /proc/"$pid"/fd/*; do
        case $(readlink "$fd" 2>/dev/null) in /dev/pts/*) attached=1 ;; esac
    done
    if [ -n "$pid" ] && [ $attached = 1 ]; then break; fi
    n=$((n + 1))
    [ $n -lt 200 ] || { sed 's/^/dom0| /' /tmp/domu.out; end "xl console did not attach"; }
    sleep 0.05
done
xl unpause domu || end "xl unpause failed"
say "unpaused at $(cut -d' ' -f1 /proc/uptime) s"

alive() { xl domid domu >/dev/null 2>&1; }

# Plan steps (docs/domu.md): an xl subcommand gets the guest's name as its
# first argument (sched-credit and sched-credit2 get `-d domu`); and
#   sleep S          wait S seconds
#   wait TEXT        wait (up to 20 s) until the guest printed a line containing TEXT
#   type TEXT        send TEXT and a newline to the guest's console input
#   pause-for S      xl pause, sleep S, xl unpause; write the paused time
#                    in ms (dom0's view) to the guest's data/paused-ms
#   xs-write K V     write V at K under the guest's xenstore home
#   expect-vcpus N   within 3 s, `xl vcpu-list` shows exactly N vCPUs online
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
        until grep -qF -- "$*" /tmp/domu.out; do
            i=$((i + 1))
            [ $i -le 400 ] || { say "check failed: the guest did not print '$*' within 20 s"; return 1; }
            if ! alive; then
                # Its last lines may still be on their way through xl console;
                # a guest that ended is judged by its own TAP stream.
                sleep 0.5
                grep -qF -- "$*" /tmp/domu.out || say "the guest ended before it printed '$*'"
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
    sched-credit|sched-credit2) xl "$cmd" -d domu "$@" ;;
    # More vCPUs than pCPUs is a case we test on purpose; xl refuses it
    # ("You are overcommmitting!") unless told otherwise.
    vcpu-set) xl vcpu-set --ignore-host domu "$@" ;;
    *) xl "$cmd" domu "$@" ;;
    esac
}

set -f  # plan steps are split into words, never globbed
if [ -s /domu/plan ]; then
    while IFS= read -r line; do
        alive || { say "the guest ended before step: $line"; break; }
        say "step: $line ($(cut -d' ' -f1 /proc/uptime) s)"
        step "$line" >/tmp/step.out 2>&1
        awk '/^dom0\| / { print; next } { print "dom0| " $0 }' /tmp/step.out
    done </domu/plan
fi

while alive; do sleep 0.1; done
sleep 0.2
end "domu ended at $(cut -d' ' -f1 /proc/uptime) s"
