#!/usr/bin/env bash
# Installs the Debian packages Voxgate needs, skipping those already there.
#   scripts/install-deps.sh run    what the gateway needs at run time
#   scripts/install-deps.sh test   plus the real peers the tests drive
#   scripts/install-deps.sh bench  plus the references bench/run.sh measures against (rtpengine)
set -euo pipefail

runtime_pkgs=(espeak-ng nodejs npm pocketsphinx pocketsphinx-en-us)
test_pkgs=(espeak-ng nodejs npm pocketsphinx pocketsphinx-en-us sip-tester baresip linphone-cli sox libsox-fmt-all tshark chromium nftables iproute2 postgresql kamailio)
bench_pkgs=("${test_pkgs[@]}" rtpengine-daemon)

case "${1:-run}" in
  run) pkgs=("${runtime_pkgs[@]}") ;;
  test) pkgs=("${test_pkgs[@]}") ;;
  bench) pkgs=("${bench_pkgs[@]}") ;;
  *) echo "usage: $0 [run|test|bench]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  # Node.js from elsewhere (e.g. NodeSource, which bundles npm) will do.
  case "$p" in
    nodejs) command -v node >/dev/null && continue ;;
    npm) command -v npm >/dev/null && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
