#!/usr/bin/env bash
# Installs every build and test dependency of Vigil (DESIGN.md §9) from Debian 12 packages.
# Idempotent and non-interactive; run as root (or with sudo available) on a fresh machine.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git zstd
  catch2 libbenchmark-dev
  liblz4-dev libzstd-dev libxxhash-dev
  libboost-dev libboost-system-dev
  libflatbuffers-dev flatbuffers-compiler
  libsnappy-dev libre2-dev libedit-dev libyaml-cpp-dev
  libssl-dev openssl
  zlib1g-dev
  prometheus prometheus-node-exporter victoria-metrics
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q </dev/null
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
