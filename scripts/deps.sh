#!/usr/bin/env bash
# Installs the Debian 12 packages Icebreaker needs. Sourced by the other scripts; does nothing
# when everything is already there, so repeated runs cost a second.
#   ICEBREAKER_DEPS=build   compiler, Qt 6, crypto, metrics, hiredis, curl, help2man (enough to build and run
#                           the ice-server and the README's demo)
#   ICEBREAKER_DEPS=test    everything the tests use as well (Qt 5, QCA, clang, coturn, nftables, tshark for
#                           the Wireshark dissector, prometheus for promtool, redis-server for the cluster
#                           tests, lintian, dpkg-dev, file for the Debian packages, ...)

icebreaker_packages_build=(
  cmake ninja-build g++ ccache pkg-config
  qt6-base-dev libssl-dev openssl
  prometheus-cpp-dev libcivetweb-dev libhiredis-dev
  curl help2man
)
icebreaker_packages_test=(
  "${icebreaker_packages_build[@]}"
  qtbase5-dev libqca-qt5-2-dev libqca-qt5-2-plugins
  clang-14 libclang-rt-14-dev
  coturn nftables iproute2 conntrack ethtool procps python3
  tshark prometheus redis-server
  lintian dpkg-dev file adduser
)

icebreaker_install_deps() {
  local kind=${1:-test} missing=() pkg
  local -n wanted="icebreaker_packages_${kind}"
  for pkg in "${wanted[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "== installing ${#missing[@]} Debian packages: ${missing[*]}"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "error: need root (or sudo) to apt-get install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
