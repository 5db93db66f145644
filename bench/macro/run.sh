#!/usr/bin/env bash
# Vigil's macro benchmark in one command (bench/macro/README.md):
#
#   bench/macro/run.sh [--quick] [bench.py options, e.g. --datasets telemetry --no-highcard]
#
# Installs what is missing (build dependencies, prometheus, victoria-metrics, influxdb, python3)
# from Debian, stops the peers' services if the install started them, builds the sender and vigild
# in release mode (build-macro/), then runs bench/macro/bench.py: every system on 127.0.0.1 with
# fresh data directories under /tmp/vigil-macro, the same data loaded into each, and a JSON record
# plus a ratio table at the end (bench/macro/results/).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# ---- dependencies ------------------------------------------------------------------------------
tools/setup/install-deps.sh
declare -A package_of=([prometheus]=prometheus [victoria-metrics]=victoria-metrics
                       [influxd]=influxdb [python3]=python3)
missing=()
for cmd in prometheus victoria-metrics influxd python3; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "run.sh: installing ${missing[*]}"
  $SUDO apt-get update -q </dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
  # Debian starts a freshly installed daemon where it can (systemd, or init scripts without a
  # policy-rc.d that forbids it). Stop and disable only the services of packages installed here;
  # the benchmark starts its own instances on free ports.
  for pkg in "${missing[@]}"; do
    case "$pkg" in
      prometheus|victoria-metrics|influxdb) ;;
      *) continue ;;
    esac
    state=$(systemctl is-system-running 2>/dev/null || true)
    if [ "$state" = running ] || [ "$state" = degraded ] || [ "$state" = starting ]; then
      $SUDO systemctl stop "$pkg" || true
      $SUDO systemctl disable "$pkg" || true
    elif [ -x "/etc/init.d/$pkg" ]; then
      $SUDO "/etc/init.d/$pkg" stop || true
    fi
  done
fi

# ---- build -------------------------------------------------------------------------------------
cmake -S . -B build-macro -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_CXX_FLAGS_RELEASE=-O3 -DNDEBUG -g" -DVIGIL_BUILD_TESTS=OFF >/dev/null
targets=(vigil-macro-load)
vigild=""
if ninja -C build-macro -t targets all 2>/dev/null | grep -q '^vigild:'; then
  targets+=(vigild)
fi
nice ninja -C build-macro -j"$(nproc)" "${targets[@]}"
if [ "${#targets[@]}" -gt 1 ]; then
  vigild=$(find build-macro -type f -name vigild -perm -u+x | head -n1)
fi
if [ -z "$vigild" ]; then
  echo "run.sh: no vigild target (server/vigild_main.cc): benchmarking the peers only"
fi

# ---- run ---------------------------------------------------------------------------------------
exec python3 bench/macro/bench.py --sender build-macro/bench/vigil-macro-load \
  --vigild "${vigild:+$top/$vigild}" "$@"
