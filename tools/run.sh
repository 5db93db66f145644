#!/usr/bin/env bash
# Builds Vigil (release with debug info) and runs its main program. Until vigild exists this is
# `vigil-admin chunk-stats` over telemetry: a CSV file given as the first argument, else the
# real-scrape dataset when ../shared/datasets is present (or $VIGIL_DATASETS), else generated data.
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
  # No real telemetry next to the repository: a generated hour of 5 s scrapes for 200 series
  # (integer counters, gauges with two decimals, constants), deterministic.
  echo "vigil-admin chunk-stats over generated telemetry (no $datasets/real-scrape found)"
  awk 'BEGIN {
    srand(7);
    for (s = 0; s < 200; s++) {
      c = 0; g = 50;
      for (i = 0; i < 720; i++) {
        t = 1700000000000 + i * 5000 + int(rand() * 3);
        if (s % 3 == 0) { c += int(rand() * 40); v = sprintf("%.0f", c) }
        else if (s % 3 == 1) { g += (rand() - 0.5) * 2; v = sprintf("%.2f", g) }
        else { v = 1 }
        printf "%d,%.0f,%s\n", s, t, v
      }
    }
  }' | build/tools/vigil-admin chunk-stats
fi
