#!/usr/bin/env bash
# Builds Vigil (release with debug info) and runs its main program. Until vigild exists this is
# `vigil-admin chunk-stats` over real telemetry: the real-scrape dataset when ../shared/datasets is
# present (or $VIGIL_DATASETS), else a CSV file given as the first argument.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build vigil-admin
datasets=${VIGIL_DATASETS:-$top/../shared/datasets}
if [ $# -ge 1 ]; then
  exec build/tools/vigil-admin chunk-stats < "$1"
elif [ -f "$datasets/real-scrape/samples.csv.zst" ]; then
  echo "vigil-admin chunk-stats over $datasets/real-scrape/samples.csv.zst"
  zstdcat "$datasets/real-scrape/samples.csv.zst" | build/tools/vigil-admin chunk-stats
else
  echo "run.sh: no dataset at $datasets/real-scrape; pass a CSV file (id,timestamp_ms,value)" >&2
  exit 1
fi
