# shellcheck shell=bash
# The Linux dom0 that runs Xen's toolstack for `scripts/boot --domu`.
# Source this file (after packages.sh); it defines functions only.
#
# xv_dom0_image DIR [XEN]
#                     make DIR/vmlinux.lz4 (the dom0 kernel) and
#                     DIR/base.cpio.gz (its initramfs without the guest) for
#                     Xen XEN (4.17, the default, or 4.20); reuse them while
#                     the inputs are unchanged.
# xv_dom0_overlay SRC OUT
#                     pack the files under SRC as a second gzip'd cpio
#                     archive OUT that the kernel unpacks over the first
#                     (Linux reads concatenated initramfs archives in turn).
#
# Everything comes from Debian packages fetched with `apt-get download` and
# unpacked with dpkg-deb into .cache/ (nothing is installed, /boot is not
# touched). Both images run Debian 12's kernel, linux-image-<abi>-amd64
# (what linux-image-amd64 names). For Xen 4.17 the rest is Debian 12's
# busybox-static, xen-utils-4.17 and xenstore-utils, and the shared
# libraries the toolstack binaries need are the host's own, as ldd resolves
# them (xen-utils-4.17 installed on the host brings them; the harness
# checks). For Xen 4.20 the toolstack and everything it links, down to
# glibc, are Debian 13's, fetched through the same private apt state as the
# 4.20 hypervisor (xv_trixie_deb, packages.sh): xen-utils-4.20,
# xenstore-utils and their libraries; busybox-static (static) is Debian
# 12's. docs/domu.md says why each piece is there.

xv_dom0_kernel_abi() { # -> e.g. 6.1.0-56-amd64, what linux-image-amd64 depends on
    apt-cache depends linux-image-amd64 2>/dev/null \
        | awk '/Depends: linux-image-[0-9]/ { sub(/^linux-image-/, "", $2); print $2; exit }'
}

xv_dom0_deb() { # package -> path of its .deb in .cache/apt-bookworm (downloaded once)
    local pkg=$1 dir deb
    dir="$(xv_repo_root)/.cache/apt-bookworm"
    mkdir -p "$dir"
    # shellcheck disable=SC2012  # package file names are plain
    deb=$(ls -t "$dir/${pkg}_"*.deb 2>/dev/null | head -n1)
    if [ -z "$deb" ]; then
        xv_say "downloading $pkg from Debian 12 into .cache (unpacked, not installed)"
        (cd "$dir" && apt-get -o APT::Sandbox::User=root download "$pkg" >&2) || return 1
        # shellcheck disable=SC2012
        deb=$(ls -t "$dir/${pkg}_"*.deb | head -n1)
    fi
    echo "$deb"
}

# The ELF vmlinux inside Debian's bzImage is one xz stream: find its magic
# and unpack it. Xen decompresses xz slowly under TCG (~2.7 s) and lz4 fast
# (~0.2 s), so the image is handed over as lz4 legacy frames with the
# uncompressed size appended as le32, the format Linux's own build makes.
xv_dom0_vmlinux_lz4() { # bzImage out
    local bz=$1 out=$2
    /usr/bin/python3 - "$bz" "$out.elf" <<'EOF' || return 1
import lzma, sys
data = open(sys.argv[1], 'rb').read()
at = data.find(b'\xfd7zXZ\x00')
if at < 0:
    sys.exit('no xz stream in ' + sys.argv[1])
elf = lzma.LZMADecompressor(format=lzma.FORMAT_XZ).decompress(data[at:])
if elf[:4] != b'\x7fELF':
    sys.exit('the xz stream is not an ELF image')
open(sys.argv[2], 'wb').write(elf)
EOF
    lz4 -q -l -9 -f "$out.elf" "$out.tmp" || return 1
    /usr/bin/python3 -c 'import os, struct, sys; sys.stdout.buffer.write(struct.pack("<I", os.path.getsize(sys.argv[1])))' \
        "$out.elf" >>"$out.tmp" || return 1
    rm -f "$out.elf"
    mv -f "$out.tmp" "$out"
}

# Copy a program and every library ldd names into root (same paths).
xv_dom0_copy_elf() { # file dest-dir root
    local file=$1 dest=$2 root=$3 libs lib
    mkdir -p "$root$dest"
    cp -L "$file" "$root$dest/"
    libs=$(ldd "$file") || return 1
    if grep -q 'not found' <<<"$libs"; then
        xv_say "ldd: $file needs libraries this host lacks (install xen-utils-4.17): $(grep 'not found' <<<"$libs" | tr -s '\t\n' ' ')"
        return 1
    fi
    # shellcheck disable=SC2013  # library paths have no spaces
    for lib in $(awk '$2 == "=>" && $3 ~ /^\// { print $3; next } $1 ~ /^\// { print $1 }' <<<"$libs"); do
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib"
    done
}

# The parts both images share: Debian 12's kernel (it runs as dom0 under
# either Xen) as DIR/vmlinux.lz4, its Xen and virtio modules under
# DIR/debs/lib/modules, the busybox tree in ROOT and dom0's /init.
xv_dom0_kernel() { # kernel-deb abi dir
    local kdeb=$1 abi=$2 dir=$3
    # Only the members needed: the kernel package unpacks to ~400 MB.
    dpkg-deb --fsys-tarfile "$kdeb" | tar -x -C "$dir/debs" --wildcards \
        "./boot/vmlinuz-$abi" "./lib/modules/$abi/kernel/drivers/xen/*" \
        "./lib/modules/$abi/kernel/drivers/virtio/virtio*.ko" \
        "./lib/modules/$abi/kernel/drivers/block/virtio_blk.ko" || return 1
    xv_dom0_vmlinux_lz4 "$dir/debs/boot/vmlinuz-$abi" "$dir/vmlinux.lz4"
}

xv_dom0_skeleton() { # busybox-binary root
    local bb=$1 root=$2 m
    mkdir -p "$root"/{bin,sbin,dev,proc,sys,run,tmp,etc,root,lib/modules,var/lib/xenstored,var/log/xen/console,domu}
    cp "$bb" "$root/bin/busybox"
    for m in sh mount mkdir insmod mkfifo sleep cat echo grep awk sed ls ps kill reboot poweroff \
             ln rm date head tail tr wc test true false printf uptime readlink seq cut pidof sync dd sort; do
        ln -sf busybox "$root/bin/$m"
    done
    ln -sfn /run/lock "$root/var/lock"
    # libxl keeps its domid-history lock in /var/run/xen.
    ln -sfn /run "$root/var/run"
    mkdir -p "$root/etc/xen"
    # dom0 has all its memory from the start (dom0_mem=...,max:...): no ballooning.
    echo 'autoballoon="off"' >"$root/etc/xen/xl.conf"
}

xv_dom0_modules_and_init() { # debs-dir abi root
    local debs=$1 abi=$2 root=$3 m
    # xen-privcmd before xenfs (xenfs needs it); the rest have no dependencies.
    for m in xen-evtchn xen-privcmd xen-gntdev xen-gntalloc xenfs/xenfs; do
        cp "$debs/lib/modules/$abi/kernel/drivers/xen/$m.ko" "$root/lib/modules/"
    done
    # virtio-blk for a save image that outlives the machine (--disk); /init
    # loads these only when a disk is attached.
    for m in virtio/virtio virtio/virtio_ring virtio/virtio_pci_legacy_dev virtio/virtio_pci_modern_dev \
             virtio/virtio_pci block/virtio_blk; do
        cp "$debs/lib/modules/$abi/kernel/drivers/$m.ko" "$root/lib/modules/"
    done
    cp "$(xv_repo_root)/scripts/lib/dom0-init.sh" "$root/init"
    chmod 755 "$root/init"
}

xv_dom0_pack() { # root out
    (cd "$1" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -1) >"$2"
}

# Whether DIR holds an image built from exactly STAMP.
xv_dom0_current() { # dir stamp
    [ -f "$1/stamp" ] && [ "$(cat "$1/stamp")" = "$2" ] && [ -s "$1/vmlinux.lz4" ] && [ -s "$1/base.cpio.gz" ]
}

xv_dom0_scripts_sum() { # what the image's scripts are, as one line
    cat "${BASH_SOURCE[0]}" "$(xv_repo_root)/scripts/lib/dom0-init.sh" | cksum
}

xv_dom0_image() { # dir [xen version: 4.17 (default) or 4.20]
    # An absolute path: the loader's library list is compared against it.
    mkdir -p "$1" || return 1
    set -- "$(cd "$1" && pwd)" "${2:-}"
    case ${2:-4.17} in
    4.17) xv_dom0_image_417 "$1" ;;
    4.20) xv_dom0_image_420 "$1" ;;
    *) xv_say "no dom0 image for Xen ${2:-}"; return 1 ;;
    esac
}

xv_dom0_kernel_deb() { # -> "abi path-of-deb" of Debian 12's dom0 kernel
    local abi kdeb
    abi=$(xv_dom0_kernel_abi)
    [ -n "$abi" ] || { xv_say "apt does not know linux-image-amd64 (run apt-get update as root)"; return 1; }
    kdeb=$(xv_dom0_deb "linux-image-$abi") || return 1
    echo "$abi $kdeb"
}

# Xen 4.17: Debian 12's toolstack, its libraries the host's own.
xv_dom0_image_417() { # dir
    local dir=$1 abi kdeb bdeb udeb sdeb stamp root m
    read -r abi kdeb < <(xv_dom0_kernel_deb) && [ -n "$kdeb" ] || return 1
    bdeb=$(xv_dom0_deb busybox-static) || return 1
    udeb=$(xv_dom0_deb xen-utils-4.17) || return 1
    sdeb=$(xv_dom0_deb xenstore-utils) || return 1
    command -v lz4 >/dev/null && command -v cpio >/dev/null || xv_need_apt lz4 cpio || return 1
    # The libraries come from the host: the toolstack's own must be there.
    [ -e /usr/lib/x86_64-linux-gnu/libxenlight.so.4.17 ] || xv_need_apt xen-utils-4.17 || return 1
    stamp="$abi $(basename "$bdeb") $(basename "$udeb") $(basename "$sdeb") $(xv_dom0_scripts_sum)"
    xv_dom0_current "$dir" "$stamp" && return 0
    xv_say "building the dom0 image for Xen 4.17 in $dir (kernel $abi)"
    rm -rf "$dir"
    mkdir -p "$dir/debs" "$dir/root"
    root="$dir/root"
    xv_dom0_kernel "$kdeb" "$abi" "$dir" || return 1
    dpkg-deb -x "$bdeb" "$dir/debs" || return 1
    dpkg-deb -x "$udeb" "$dir/debs" || return 1
    dpkg-deb -x "$sdeb" "$dir/debs" || return 1
    xv_dom0_skeleton "$dir/debs/bin/busybox" "$root" || return 1
    # xenstored, then xen-init-dom0, then xenconsoled: the order the
    # toolstack needs (see docs/domu.md). The `xl` in PATH on Debian is a
    # version-dispatch script; these are the binaries themselves.
    # libxl runs xenconsole from the toolstack's own directory, so they keep it.
    # xl save, restore and migrate run libxl-save-helper from there too.
    for m in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper; do
        xv_dom0_copy_elf "$dir/debs/usr/lib/xen-4.17/bin/$m" /usr/lib/xen-4.17/bin "$root" || return 1
    done
    xv_dom0_copy_elf "$dir/debs/usr/bin/xenstore-read" /bin "$root" || return 1
    mv "$root/bin/xenstore-read" "$root/bin/xenstore"
    for m in read write ls rm list exists watch; do ln -sf xenstore "$root/bin/xenstore-$m"; done
    # glibc dlopen()s libgcc_s for pthread_cancel; ldd cannot see that, and
    # `xl create` aborts without it.
    cp -L /lib/x86_64-linux-gnu/libgcc_s.so.1 "$root/lib/x86_64-linux-gnu/"
    mkdir -p "$root/lib64"
    if [ ! -e "$root/lib64/ld-linux-x86-64.so.2" ]; then cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"; fi
    xv_dom0_modules_and_init "$dir/debs" "$abi" "$root" || return 1
    xv_dom0_pack "$root" "$dir/base.cpio.gz" || return 1
    rm -rf "$dir/debs"
    echo "$stamp" >"$dir/stamp"
}

# Xen 4.20: Debian 13's toolstack needs Debian 13's glibc, so every
# dynamically linked program and library in dom0 comes from Debian 13
# packages (the loader, libc and every library the toolstack links). The
# kernel and busybox are Debian 12's, as for 4.17: busybox-static links no
# library, and Debian 13's (1.37) crashed as /init (a segfault in its shell
# during a console-flood run), where Debian 12's has run every domU so far.
# Nothing of the host's userland goes in.
xv_dom0_trixie_packages=(
    xen-utils-4.20 xenstore-utils
    # the toolstack's libraries
    libxenmisc4.20 libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
    libxenhypfs1 libxenstore4 libxentoolcore1 libxentoollog1
    # what those link (the C library, and libgcc_s, which glibc dlopen()s)
    libc6 libgcc-s1 libyajl2 liblzma5 libuuid1 libzstd1 zlib1g
)

# Copy a program of the staged Debian 13 tree into root with every library
# it links, as the staged loader resolves them; a library found outside the
# staged tree (or not at all) is a package missing from the list above.
xv_dom0_copy_staged() { # staged-root file-in-staged-root root
    local st=$1 file=$2 root=$3 list lib rel
    mkdir -p "$root$(dirname "$file")"
    cp -P "$st$file" "$root$file"
    list=$("$st/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
        --library-path "$st/usr/lib/x86_64-linux-gnu:$st/usr/lib/x86_64-linux-gnu/xen" \
        --list "$st$file" 2>&1) || { xv_say "cannot resolve the libraries of $file: $list"; return 1; }
    # shellcheck disable=SC2013  # library paths have no spaces
    for lib in $(awk '$2 == "=>" { print ($3 == "not" ? "missing:" $1 : $3) }' <<<"$list"); do
        case $lib in
        "$st"/*) rel=${lib#"$st"} ;;
        *) xv_say "$file needs ${lib#missing:}, which no package in the Debian 13 list has"; return 1 ;;
        esac
        [ -e "$root$rel" ] && continue
        mkdir -p "$root$(dirname "$rel")"
        cp -L "$lib" "$root$rel"
    done
}

xv_dom0_image_420() { # dir
    local dir=$1 abi kdeb bdeb debs=() p d stamp root st m
    read -r abi kdeb < <(xv_dom0_kernel_deb) && [ -n "$kdeb" ] || return 1
    bdeb=$(xv_dom0_deb busybox-static) || return 1
    for p in "${xv_dom0_trixie_packages[@]}"; do
        d=$(xv_trixie_deb "$p") || return 1
        debs+=("$d")
    done
    command -v lz4 >/dev/null && command -v cpio >/dev/null || xv_need_apt lz4 cpio || return 1
    stamp="4.20 $abi $(basename "$bdeb")"
    for d in "${debs[@]}"; do stamp+=" $(basename "$d")"; done
    stamp+=" $(xv_dom0_scripts_sum)"
    xv_dom0_current "$dir" "$stamp" && return 0
    xv_say "building the dom0 image for Xen 4.20 in $dir (Debian 13 toolstack and libraries, kernel $abi)"
    rm -rf "$dir"
    mkdir -p "$dir/debs" "$dir/staged" "$dir/root"
    root="$dir/root" st="$dir/staged"
    xv_dom0_kernel "$kdeb" "$abi" "$dir" || return 1
    dpkg-deb -x "$bdeb" "$dir/debs" || return 1
    for d in "${debs[@]}"; do dpkg-deb -x "$d" "$st" || return 1; done
    xv_dom0_skeleton "$dir/debs/bin/busybox" "$root" || return 1
    # Debian 13 merged /lib into /usr/lib: the libraries live in
    # /usr/lib/x86_64-linux-gnu, and /lib/x86_64-linux-gnu leads there.
    mkdir -p "$root/usr/lib/x86_64-linux-gnu"
    ln -sfn ../usr/lib/x86_64-linux-gnu "$root/lib/x86_64-linux-gnu"
    # As for 4.17: the binaries themselves, in the toolstack's own directory.
    for m in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper; do
        xv_dom0_copy_staged "$st" "/usr/lib/xen-4.20/bin/$m" "$root" || return 1
    done
    # Debian 13's xenstore-utils ships one program, xenstore, that acts by
    # the name it is called with.
    xv_dom0_copy_staged "$st" /usr/bin/xenstore "$root" || return 1
    mv "$root/usr/bin/xenstore" "$root/bin/xenstore"
    for m in read write ls rm list exists watch; do ln -sf xenstore "$root/bin/xenstore-$m"; done
    cp -L "$st/usr/lib/x86_64-linux-gnu/libgcc_s.so.1" "$root/usr/lib/x86_64-linux-gnu/"
    # Programs ask for /lib64/ld-linux-x86-64.so.2; Debian 13 keeps the
    # loader in /usr/lib/x86_64-linux-gnu (copied there with libc above).
    mkdir -p "$root/lib64"
    ln -sfn ../usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/lib64/ld-linux-x86-64.so.2"
    xv_dom0_modules_and_init "$dir/debs" "$abi" "$root" || return 1
    xv_dom0_pack "$root" "$dir/base.cpio.gz" || return 1
    rm -rf "$dir/debs" "$dir/staged"
    echo "$stamp" >"$dir/stamp"
}

xv_dom0_overlay() { # src-dir out
    xv_dom0_pack "$1" "$2"
}
