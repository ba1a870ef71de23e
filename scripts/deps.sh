#!/usr/bin/env bash
# Install the Debian 12 packages Whistle needs to build and test, only if
# some are missing (so a second run costs nothing and needs no network).
set -euo pipefail

pkgs=(
  gcc make cmake pkg-config          # toolchain
  clang libclang-rt-14-dev           # libFuzzer targets (scripts/fuzz.sh)
  libsodium-dev libzmq3-dev liblmdb-dev libmsgpack-dev   # the core deps
  libzstd-dev                        # compressed OPS batches
  libjansson-dev                     # JSON Lines input (case import)
  jq                                 # JSON checks in scenario tests
  iproute2 nftables iptables         # namespaces, loss and partitions
  procps psmisc                      # pgrep/pkill/killall in scenario tests
  dpkg-dev systemd groff-base        # test_package: shlibdeps, unit check, man
  libmicrohttpd-dev                  # the web console's HTTP server
  curl                               # the web console's scenario tests
  chromium fonts-wqy-microhei nodejs # the console in a real browser
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$p")
done
# npm: a Node.js from NodeSource carries its own npm (and conflicts with
# Debian's npm package), so the command is what counts.
command -v npm >/dev/null 2>&1 || missing+=(npm)
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "deps: installing ${missing[*]}" >&2
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
