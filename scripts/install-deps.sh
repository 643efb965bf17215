#!/usr/bin/env bash
# Installs everything foreshock needs to build, run and test, from Debian 12 packages only.
# Usage: scripts/install-deps.sh [build|test]   (default: test, which is a superset of build)
set -euo pipefail
mode="${1:-test}"
export DEBIAN_FRONTEND=noninteractive

build_pkgs=(
  build-essential cmake pkg-config ninja-build git ccache
  prometheus-cpp-dev libcli11-dev libyaml-cpp-dev libmicrohttpd-dev zlib1g-dev libgnutls28-dev
  libsensors-dev libatasmart-dev libmnl-dev libcrypt-dev
  lm-sensors smartmontools
)
test_pkgs=(
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  clang libclang-rt-14-dev clang-format
  prometheus prometheus-alertmanager prometheus-node-exporter
  lldpd iproute2 nftables iputils-ping iputils-arping procps curl python3 python3-yaml jq
  libatasmart-bin util-linux kmod ethtool tcpdump
  systemd debhelper devscripts dpkg-dev lintian man-db groff-base
  nvme-cli
  qemu-system-x86 qemu-utils mmdebstrap
  openssl apache2-utils
  python3-jsonschema python3-numpy python3-pandas python3-sklearn
)
pkgs=("${build_pkgs[@]}")
if [[ "$mode" == test ]]; then pkgs+=("${test_pkgs[@]}"); fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The Debian prometheus packages start services on install on a systemd host; tests run their
# own instances on loopback, so make sure no packaged daemon holds the default ports.
for svc in prometheus prometheus-alertmanager prometheus-node-exporter lldpd; do
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl stop "$svc" 2>/dev/null || true
  fi
done
echo "install-deps: ok ($mode)"
