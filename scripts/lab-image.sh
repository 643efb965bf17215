#!/usr/bin/env bash
# Builds (or reuses) the QEMU hardware lab's guest: a Debian 12 root made with mmdebstrap from
# this machine's configured Debian apt sources, with the Debian kernel, systemd as PID 1, the
# QEMU guest agent (the lab's command channel) and the tools the lab drives (smartmontools,
# nvme-cli, mdadm). The root is written into an ext4 image with mke2fs -d (no loop devices);
# the kernel and initramfs are copied beside it to be booted directly with -kernel/-initrd.
#
# Usage: scripts/lab-image.sh CACHE_DIR
#   Prints the directory holding rootfs.img, vmlinuz, initrd.img and image.info. The directory
#   is CACHE_DIR/image-<hash>, keyed by this script, the package list and the apt sources, so a
#   re-run with the same inputs returns at once; older images in CACHE_DIR are removed.
# Environment: FORESHOCK_LAB_APT_SOURCES  apt sources file to build from (default: the host's
#   Debian deb822 sources, else /etc/apt/sources.list). Needs root (mmdebstrap --mode=root).
set -euo pipefail
cache=$(realpath -m "${1:?usage: lab-image.sh CACHE_DIR}")
suite=bookworm

sources=${FORESHOCK_LAB_APT_SOURCES:-}
if [[ -z "$sources" ]]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    if [[ -s "$f" ]] && grep -q '^[^#]*debian' "$f"; then sources=$f; break; fi
  done
fi
[[ -n "$sources" && -s "$sources" ]] || { echo "lab-image: no Debian apt sources found" >&2; exit 1; }
for tool in mmdebstrap mke2fs sha256sum flock; do
  command -v "$tool" >/dev/null || { echo "lab-image: $tool is missing (scripts/install-deps.sh)" >&2; exit 1; }
done

# The guest's packages. foreshock's own dependencies are here so that the .deb under test
# installs offline in the guest (dpkg -i); the rest is what the lab's faults and checks need.
packages=(
  systemd systemd-sysv udev dbus kmod linux-image-amd64 initramfs-tools
  qemu-guest-agent e2fsprogs util-linux iproute2 procps curl ca-certificates
  smartmontools nvme-cli mdadm pciutils
  libgnutls30 libatasmart4 libsensors5 libyaml-cpp0.7 libmnl0 zlib1g libcrypt1
  libprometheus-cpp-core1.0 libstdc++6 libgcc-s1
)

# Guest configuration, applied inside the root before it is packed:
# - a small initramfs (only what mounting the virtio root needs): faster to build, and faster to
#   unpack on an emulated CPU than the default MODULES=most;
# - static address on QEMU's user network (10.0.2.15), no DHCP wait, via systemd-networkd;
# - no getty or timers that compete for the lab's single emulated CPU;
# - the journal kept on disk so that a reboot keeps the earlier boots' logs.
hooks=(
  --essential-hook='mkdir -p "$1/etc/initramfs-tools/conf.d" "$1/etc/initramfs-tools/hooks"'
  --essential-hook='printf "MODULES=list\nCOMPRESS=gzip\n" > "$1/etc/initramfs-tools/conf.d/foreshock-lab.conf"'
  --essential-hook='printf "#!/bin/sh\n[ \"\$1\" = prereqs ] && exit 0\n. /usr/share/initramfs-tools/hook-functions\nmanual_add_modules virtio_pci virtio_blk ext4 crc32c_generic\n" > "$1/etc/initramfs-tools/hooks/foreshock-lab" && chmod 755 "$1/etc/initramfs-tools/hooks/foreshock-lab"'
  --customize-hook='echo foreshock-lab > "$1/etc/hostname"'
  --customize-hook='echo "LABEL=root / ext4 rw,errors=remount-ro 0 1" > "$1/etc/fstab"'
  --customize-hook='mkdir -p "$1/etc/systemd/network" && printf "[Match]\nName=en* eth*\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n" > "$1/etc/systemd/network/10-lab.network"'
  --customize-hook='chroot "$1" systemctl enable systemd-networkd.service'
  --customize-hook='chroot "$1" systemctl mask getty@tty1.service serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer man-db.timer mdmonitor-oneshot.timer mdcheck_start.timer mdcheck_continue.timer'
  --customize-hook='mkdir -p "$1/var/log/journal"'
  --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb "$1"/var/lib/apt/lists/*_Packages'
)

# The cache key: what goes into the image (suite, packages, hooks, apt sources), not this
# script's comments or plumbing.
key=$( { echo "$suite"; printf '%s\n' "${packages[@]}" "${hooks[@]}"; cat "$sources"; } |
  sha256sum | cut -c1-16)
dir="$cache/image-$key"
mkdir -p "$cache"
# One build at a time per cache: quickstart.sh test starts a build in the background while the
# code compiles, and the lab.image test then waits here for it instead of starting another.
exec 9>"$cache/.lock"
flock 9
if [[ -s "$dir/image.info" ]]; then echo "$dir"; exit 0; fi
[[ $(id -u) == 0 ]] || { echo "lab-image: building the guest root needs root" >&2; exit 1; }

# --one-file-system: a build killed half-way may have left proc/sys mounts in its root.
rm -rf --one-file-system "$cache"/image-* "$cache"/tmp-*
tmp=$(mktemp -d "$cache/tmp-XXXXXX")
trap 'rm -rf --one-file-system "$tmp"' EXIT
root="$tmp/root"
start=$(date +%s)
include=$(IFS=,; echo "${packages[*]}")
mmdebstrap --mode=root --variant=apt --include="$include" --aptopt='Acquire::Retries "3"' \
  "${hooks[@]}" "$suite" "$root" "$sources"

mkdir -p "$tmp/out"
kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -1)")
cp "$root/boot/vmlinuz-$kver" "$tmp/out/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/out/initrd.img"
# 2 GiB sparse: room for the .deb, the agent's state and the journal.
mke2fs -q -t ext4 -L root -d "$root" "$tmp/out/rootfs.img" 2G
{
  echo "kernel=$kver"
  echo "suite=$suite"
  echo "sources=$sources"
  echo "packages=${packages[*]}"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - start ))s"
} > "$tmp/out/image.info"
mv "$tmp/out" "$dir"
echo "$dir"
