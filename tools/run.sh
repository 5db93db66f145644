#!/usr/bin/env bash
# Builds Vigil (release with debug info) and runs vigild, its server, in the foreground: data in
# ./vigil-data, HTTP on 127.0.0.1:9201 (Prometheus API, remote write, line protocol, /metrics), the
# native protocol on 127.0.0.1:9095. Extra arguments go to vigild (`tools/run.sh --help`).
# Ctrl-C (SIGINT) or SIGTERM stops it gracefully.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build vigild
cat <<'TXT'
vigild starting. Try, from another terminal:
  curl -s -XPOST 'http://127.0.0.1:9201/write?precision=s' --data-binary "demo,host=a value=1 $(date +%s)"
  curl -s 'http://127.0.0.1:9201/api/v1/query?query=demo'
Grafana: add a Prometheus data source with URL http://127.0.0.1:9201.
TXT
exec build/server/vigild "$@"
