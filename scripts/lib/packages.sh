# shellcheck shell=bash
# Package helpers shared by scripts/demo, scripts/test and scripts/boot.
# Source this file; it defines functions only.
#
# xv_need_apt PKG...          install the Debian 12 packages that are missing
# xv_fetch_trixie PKG DEST    download PKG from Debian 13 (trixie) and unpack
#                             it into DEST, without touching the system's apt
#                             sources: a private sources list, state and cache
#                             directory under the repository's .cache/.
# xv_trixie_deb PKG           download PKG's .deb from Debian 13 the same
#                             private way (once) and print its path.
# xv_fetch_bookworm PKG DEST  download PKG from the system's own Debian 12
#                             sources and unpack it into DEST without
#                             installing it (e.g. a hypervisor whose package
#                             would add boot entries to the host's grub).

# Resolved once, as this file is sourced: a caller may change directory later.
xv_repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
xv_repo_root() { echo "$xv_repo_dir"; }

xv_say() { printf '[xenvcpu] %s\n' "$*" >&2; }

xv_apt_updated=0
xv_need_apt() {
    local missing=() p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        xv_say "missing packages: ${missing[*]} (run as root, or install them)"
        return 1
    fi
    xv_say "installing with apt: ${missing[*]}"
    if [ $xv_apt_updated -eq 0 ]; then
        apt-get update -qq >&2 || return 1
        xv_apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The archive URI the system already uses for Debian 12, so that the private
# trixie list points at the same mirror.
xv_debian_uri() {
    local f uri
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' "$f")
        [ -n "$uri" ] && { echo "$uri"; return 0; }
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [ -f "$f" ] || continue
        uri=$(awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return 0; }
    done
    return 1
}

# apt-get with a private Debian 13 sources list, state and cache under
# .cache/apt-trixie (the package lists are read in once).
xv_trixie_apt() { # apt-get arguments...
    local root apt_dir uri
    root=$(xv_repo_root)
    apt_dir="$root/.cache/apt-trixie"
    xv_need_apt apt ca-certificates debian-archive-keyring || return 1
    uri=$(xv_debian_uri) || { xv_say "cannot find the Debian archive in the system's apt sources"; return 1; }
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$apt_dir/debs"
    printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$uri" >"$apt_dir/sources.list"
    local opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o "Dir::Etc::SourceParts=-"
                -o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists"
                -o "Dir::State::status=/dev/null" -o "Dir::Cache=$apt_dir" -o "Dir::Cache::Archives=$apt_dir/archives"
                -o "APT::Sandbox::User=root" -o "Debug::NoLocking=1")
    if [ ! -f "$apt_dir/.updated" ]; then
        xv_say "reading Debian 13 package lists (private apt state, system sources untouched)"
        apt-get "${opts[@]}" update -qq >&2 || return 1
        touch "$apt_dir/.updated"
    fi
    apt-get "${opts[@]}" "$@"
}

xv_trixie_deb() { # package -> path of its .deb in .cache/apt-trixie/debs
    local pkg=$1 dir deb
    dir="$(xv_repo_root)/.cache/apt-trixie/debs"
    # shellcheck disable=SC2012  # package file names are plain
    deb=$(ls -t "$dir/${pkg}_"*.deb 2>/dev/null | head -n1)
    if [ -z "$deb" ]; then
        xv_say "downloading $pkg from Debian 13 into .cache (unpacked, not installed)"
        mkdir -p "$dir"
        (cd "$dir" && xv_trixie_apt download "$pkg" >&2) || return 1
        # shellcheck disable=SC2012
        deb=$(ls -t "$dir/${pkg}_"*.deb | head -n1)
    fi
    echo "$deb"
}

xv_fetch_trixie() {
    local pkg=$1 dest=$2 deb
    if [ -f "$dest/.fetched-$pkg" ]; then return 0; fi
    mkdir -p "$dest"
    deb=$(xv_trixie_deb "$pkg") || return 1
    dpkg-deb -x "$deb" "$dest" && touch "$dest/.fetched-$pkg"
}

xv_fetch_bookworm() {
    local pkg=$1 dest=$2 dir deb
    dir="$(xv_repo_root)/.cache/apt-bookworm"
    if [ -f "$dest/.fetched-$pkg" ]; then return 0; fi
    mkdir -p "$dir" "$dest"
    xv_say "downloading $pkg from Debian 12 into .cache (unpacked, not installed)"
    # apt-get download needs package lists; on a fresh machine there may be
    # none yet, and only root may read them in.
    if ! (cd "$dir" && apt-get -o APT::Sandbox::User=root download "$pkg" >&2); then
        if [ "$(id -u)" -ne 0 ]; then
            xv_say "cannot download $pkg (run 'apt-get update' as root first)"
            return 1
        fi
        if [ $xv_apt_updated -eq 0 ]; then
            apt-get update -qq >&2 || return 1
            xv_apt_updated=1
        fi
        (cd "$dir" && apt-get -o APT::Sandbox::User=root download "$pkg" >&2) || return 1
    fi
    deb=$(ls -t "$dir/${pkg}_"*.deb | head -n1)
    dpkg-deb -x "$deb" "$dest" && touch "$dest/.fetched-$pkg"
}
