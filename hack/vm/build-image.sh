#!/usr/bin/env bash
# Builds the Debian 12 guest image of the VM nodes (test/harness/vmNode.ts):
# systemd as PID 1 on cgroup v2, booted by QEMU from an extracted kernel+initrd.
#
#   hack/vm/build-image.sh          build (or reuse) the image; prints its directory
#   hack/vm/build-image.sh --path   print the directory only (no build, no install)
#
# The image is built from Debian packages only (mmdebstrap, with the host's own
# apt sources) and cached outside the repo, under
# ~/.cache/systemd-workload-operator/vm/<hash>/, keyed by a hash of everything
# that decides its content: this script, the package list and the apt sources.
# mke2fs -d output is not byte-reproducible, so the key is the inputs, never the
# output. A directory is complete once it holds `done`; a half build is never
# used and is replaced by the next run.
#
# The image holds no project code: the agent runs from the host's build, shared
# read-only into the guest by virtio-9p (see vmNode.ts), so a rebuild of the
# project never rebuilds the image.
set -euo pipefail
log() { echo "[vm-image] $*" >&2; }

# What the guest needs: systemd as PID 1 with udev and D-Bus (the agent's bus),
# networkd for DHCP on QEMU's user network, the QEMU guest agent (the harness's
# control channel), the kernel and initramfs-tools (the Debian kernel has virtio
# and ext4 as modules), kmod for module loading, and libstdc++6 for the host's
# node binary, which the agent runs with.
PACKAGES=systemd,systemd-sysv,dbus,udev,iproute2,kmod,procps,linux-image-amd64,initramfs-tools,qemu-guest-agent,libstdc++6
SUITE=bookworm
SOURCES=/etc/apt/sources.list.d/debian.sources
[ -f "$SOURCES" ] || SOURCES=/etc/apt/sources.list

cache=${SDW_CACHE:-$HOME/.cache/systemd-workload-operator}
key=$( { cat "$0"; echo "$PACKAGES $SUITE"; cat "$SOURCES"; } | sha256sum | cut -c1-16)
out=$cache/vm/debian12-$key

if [ "${1:-}" = --path ]; then echo "$out"; exit 0; fi
if [ -f "$out/done" ]; then
  log "cached: $out"
  echo "$out"
  exit 0
fi

# The host tools that build and boot the image.
need=()
for p in mmdebstrap qemu-system-x86 qemu-utils e2fsprogs debian-archive-keyring; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq -o DPkg::Lock::Timeout=600
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
fi

t0=$(date +%s)
mkdir -p "$cache/vm"
rm -rf "$out"
work=$(mktemp -d "$cache/vm/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir "$work/out"

# Hooks run on the host with the root directory as $1.
# - initramfs: inside a chroot mkinitramfs cannot find the device of / and fails
#   with MODULES=most; list the modules the guest boots from instead.
# - the root is /dev/vda (one virtio disk), the hostname comes from the kernel
#   command line (systemd.hostname=), the machine id is made at first boot.
# - 9p: the harness shares the project's build into the guest read-only.
mmdebstrap --variant=minbase --mode=root --include="$PACKAGES" \
  --aptopt='Acquire::Languages "none"' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" && echo MODULES=list > "$1/etc/initramfs-tools/conf.d/vm-node" && printf "virtio_pci\nvirtio_blk\next4\n" > "$1/etc/initramfs-tools/modules"' \
  --customize-hook='echo "/dev/vda / ext4 rw,relatime 0 1" > "$1/etc/fstab"' \
  --customize-hook='printf "127.0.0.1 localhost\n" > "$1/etc/hosts"; rm -f "$1/etc/hostname"' \
  --customize-hook='printf "9p\n9pnet_virtio\n" > "$1/etc/modules-load.d/9p.conf"' \
  --customize-hook='printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/20-wired.network" && chroot "$1" systemctl enable systemd-networkd.service' \
  --customize-hook='rm -f "$1/etc/machine-id" "$1/var/lib/dbus/machine-id"; : > "$1/etc/machine-id"' \
  --customize-hook='rm -rf "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*' \
  --customize-hook='cp -L "$1/vmlinuz" "$1/initrd.img" "'"$work/out"'/"' \
  "$SUITE" "$work/rootfs" "$SOURCES"
t1=$(date +%s)

# A raw ext4 image straight from the directory (no loop mount), twice the
# content plus room for the tests' writes; sparse on disk.
size=$(( $(du -sxm "$work/rootfs" | cut -f1) * 2 + 512 ))
mke2fs -q -t ext4 -L root -d "$work/rootfs" "$work/out/disk.raw" "${size}M"
t2=$(date +%s)
{
  echo "packages=$PACKAGES"
  echo "suite=$SUITE"
  echo "kernel=$(ls "$work/rootfs/lib/modules")"
  echo "mmdebstrap_seconds=$((t1 - t0)) mke2fs_seconds=$((t2 - t1)) image_MiB=$size"
} > "$work/out/manifest"
touch "$work/out/done"
mv "$work/out" "$out"
log "built in $((t2 - t0)) s (mmdebstrap $((t1 - t0)) s, mke2fs $((t2 - t1)) s): $out"
echo "$out"
