#!/usr/bin/env bash
# Bytes per sample on disk, Vigil against VictoriaMetrics, for the real-scrape dataset, in one run.
#
#   bench/storage/vm_bytes_per_sample.sh [BUILD_DIR]        (default BUILD_DIR: ./build)
#
# 1. Installs the Debian package victoria-metrics if the binary is missing (apt-get; root or sudo).
# 2. Starts it on 127.0.0.1 with a fresh -storageDataPath under /tmp, imports every real-scrape
#    sample through /api/v1/import/prometheus (exposition lines `series value timestamp_ms`, which
#    is exactly series.tsv's notation), checks the sample count with a query, forces a flush and a
#    merge of the month partition(s), and measures the data directory (du --apparent-size, bytes).
# 3. Writes the same data through a Vigil Db (appends in time order, Db::Compact(), Close: storage_bench
#    BM_DbCompactBytesPerSample/real-scrape, which keeps the directory when VIGIL_BENCH_DATA_DIR is
#    set), measures it the same way (whole directory: blocks and what the WAL still holds) and shows
#    `vigil-admin inspect` of it.
# 4. Prints both figures and the ratio; the target is Vigil <= 0.8 x VictoriaMetrics. Stops VM by its
#    PID and removes the temporary directories.
#
# Needs: zstd, curl, python3, a build dir with storage_bench and vigil-admin (built if missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$ROOT/build}
DATASETS=${VIGIL_DATASETS:-$ROOT/../shared/datasets}
RS=$DATASETS/real-scrape
PORT=${VM_PORT:-18428}
URL=http://127.0.0.1:$PORT

for f in "$RS/series.tsv" "$RS/samples.csv.zst"; do
  [[ -r $f ]] || { echo "real-scrape dataset missing: $f" >&2; exit 1; }
done
for tool in zstd curl python3; do
  command -v $tool >/dev/null || { echo "$tool is required" >&2; exit 1; }
done

if ! command -v victoria-metrics >/dev/null; then
  echo "installing victoria-metrics (Debian package)..."
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO=sudo
  $SUDO apt-get install -y victoria-metrics
fi
VM_BIN=$(command -v victoria-metrics)

if [[ ! -x $BUILD/bench/storage_bench || ! -x $BUILD/tools/vigil-admin ]]; then
  nice ninja -C "$BUILD" -j2 storage_bench vigil-admin
fi

WORK=$(mktemp -d /tmp/vigil-vm-bytes.XXXXXX)
VM_PID=""
cleanup() {
  if [[ -n $VM_PID ]] && kill -0 "$VM_PID" 2>/dev/null; then
    kill "$VM_PID"
    wait "$VM_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# ---- VictoriaMetrics ----------------------------------------------------------------------------
VM_DATA=$WORK/vm-data
"$VM_BIN" -storageDataPath="$VM_DATA" -httpListenAddr=127.0.0.1:$PORT -retentionPeriod=100y \
  -loggerLevel=WARN >"$WORK/vm.log" 2>&1 &
VM_PID=$!
for _ in $(seq 1 100); do
  curl -sf "$URL/health" >/dev/null 2>&1 && break
  kill -0 "$VM_PID" 2>/dev/null || { echo "victoria-metrics exited:" >&2; cat "$WORK/vm.log" >&2; exit 1; }
  sleep 0.1
done
VM_VERSION=$(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || echo "(not from a package)")

# Converts to exposition lines and posts them in batches; prints samples sent, how many are NaN,
# min and max time.
read -r SENT NANS MIN_T MAX_T < <(python3 - "$RS" "$URL" <<'EOF'
import subprocess, sys, urllib.request
rs, url = sys.argv[1], sys.argv[2]
series = {}
with open(rs + "/series.tsv", encoding="utf-8") as f:
    next(f)
    for line in f:
        i, s = line.rstrip("\n").split("\t", 1)
        series[i] = s
proc = subprocess.Popen(["zstdcat", rs + "/samples.csv.zst"], stdout=subprocess.PIPE, text=True)
header = proc.stdout.readline()
assert header.strip() == "id,timestamp_ms,value", header
batch, sent, nans, lo, hi = [], 0, 0, None, None
def post(lines):
    body = ("\n".join(lines) + "\n").encode("utf-8")
    req = urllib.request.Request(url + "/api/v1/import/prometheus", data=body, method="POST")
    with urllib.request.urlopen(req) as r:
        if r.status // 100 != 2:
            sys.exit("import failed: HTTP %d" % r.status)
for line in proc.stdout:
    i, t, v = line.rstrip("\n").split(",")
    batch.append("%s %s %s" % (series[i], v, t))
    nans += v == "NaN"
    t = int(t)
    lo = t if lo is None or t < lo else lo
    hi = t if hi is None or t > hi else hi
    if len(batch) == 50000:
        post(batch); sent += len(batch); batch = []
if batch:
    post(batch); sent += len(batch)
if proc.wait() != 0:
    sys.exit("zstdcat failed")
print(sent, nans, lo, hi)
EOF
)

# Make everything searchable, then check that VM holds every sample: count the rows /api/v1/export
# returns (a query's count_over_time would skip the NaN values that VM stores too).
curl -sf "$URL/internal/force_flush" >/dev/null 2>&1 || sleep 6  # older VMs: wait out the 5 s flush interval
VM_COUNT=0
for _ in $(seq 1 30); do
  VM_COUNT=$(curl -sf "$URL/api/v1/export" --data-urlencode 'match[]={__name__=~".+"}' |
    python3 -c 'import json,sys; print(sum(len(json.loads(l)["timestamps"]) for l in sys.stdin if l.strip()))')
  [[ $VM_COUNT -ge $(( SENT - NANS )) ]] && break
  sleep 1
done
# Merge every month partition the data touches into as few parts as possible.
for prefix in $(python3 -c "
import datetime, sys
lo, hi = int(sys.argv[1]) // 1000, int(sys.argv[2]) // 1000
d = datetime.datetime.utcfromtimestamp(lo).replace(day=1)
end = datetime.datetime.utcfromtimestamp(hi)
while d <= end:
    print(d.strftime('%Y_%m'))
    d = (d + datetime.timedelta(days=32)).replace(day=1)
" "$MIN_T" "$MAX_T"); do
  curl -sf "$URL/internal/force_merge?partition_prefix=$prefix" >/dev/null
done
# force_merge returns before the merge ends on some versions: wait until no merge is active and the
# directory size stops changing.
prev=-1
for _ in $(seq 1 60); do
  sleep 1
  active=$(curl -sf "$URL/metrics" | awk '/^vm_active_merges/ {s += $2} END {print s + 0}')
  size=$(du -sb "$VM_DATA" | cut -f1)
  [[ $active == 0 && $size == "$prev" ]] && break
  prev=$size
done
file_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }
VM_BYTES=$(du -sb "$VM_DATA" | cut -f1)
VM_FILE_BYTES=$(file_bytes "$VM_DATA")
VM_DATA_BYTES=$(du -sb "$VM_DATA/data" | cut -f1)
VM_INDEX_BYTES=$(du -sb "$VM_DATA/indexdb" | cut -f1)
kill "$VM_PID"
wait "$VM_PID" 2>/dev/null || true
VM_PID=""
VM_BYTES_STOPPED=$(du -sb --exclude=cache "$VM_DATA" | cut -f1)
VM_CACHE_STOPPED=$(du -sb "$VM_DATA/cache" 2>/dev/null | cut -f1 || echo 0)

# ---- Vigil --------------------------------------------------------------------------------------
VIGIL_DIR=$WORK/vigil
mkdir -p "$VIGIL_DIR"
VIGIL_BENCH_DATA_DIR=$VIGIL_DIR "$BUILD/bench/storage_bench" \
  --benchmark_filter="BM_DbCompactBytesPerSample/real-scrape/" >"$WORK/vigil-bench.txt" 2>&1 ||
  { cat "$WORK/vigil-bench.txt" >&2; exit 1; }
VIGIL_DATA=$VIGIL_DIR/real-scrape-db
"$BUILD/tools/vigil-admin" inspect "$VIGIL_DATA" >"$WORK/inspect.txt"
VIGIL_BYTES=$(du -sb "$VIGIL_DATA" | cut -f1)
VIGIL_FILE_BYTES=$(file_bytes "$VIGIL_DATA")
VIGIL_SAMPLES=$(awk '/samples .* \(blocks and head\)/ {print $2}' "$WORK/inspect.txt")

# ---- Report -------------------------------------------------------------------------------------
python3 - "$SENT" "$VM_COUNT" "$VM_BYTES" "$VM_DATA_BYTES" "$VM_INDEX_BYTES" "$VM_BYTES_STOPPED" \
  "$VIGIL_SAMPLES" "$VIGIL_BYTES" "$VM_VERSION" "" "" "$VM_CACHE_STOPPED" "$NANS" "$VM_FILE_BYTES" "$VIGIL_FILE_BYTES" <<'EOF'
import sys
sent, vm_count, vm_bytes, vm_data, vm_index, vm_stopped, vg_samples, vg_bytes = map(int, sys.argv[1:9])
version = sys.argv[9]
nans = int(sys.argv[13])
vm_files, vg_files = int(sys.argv[14]), int(sys.argv[15])
print("real-scrape: %d samples sent (%d of them NaN)" % (sent, nans))
print("VictoriaMetrics %s" % version)
print("  samples exported           %d (VictoriaMetrics drops NaN samples; Vigil keeps them bit-exact)" % vm_count)
print("  data dir after merge       %d bytes  %.3f B/sample sent, %.3f B/sample kept  (data/ %d, indexdb/ %d)" %
      (vm_bytes, vm_bytes / sent, vm_bytes / vm_count, vm_data, vm_index))
print("  files only (no directory entries) %d bytes  %.3f B/sample" % (vm_files, vm_files / sent))
print("  data dir after shutdown    %d bytes  %.3f B/sample  (without cache/, which took %s bytes more)" %
      (vm_stopped, vm_stopped / sent, sys.argv[12]))
print("Vigil (Db: appended, Compact(), closed; blocks, index and WAL included)")
print("  samples in the directory   %d" % vg_samples)
print("  data dir                   %d bytes  %.3f B/sample" % (vg_bytes, vg_bytes / sent))
print("  files only (no directory entries) %d bytes  %.3f B/sample" % (vg_files, vg_files / sent))
ratio = vg_bytes / vm_bytes  # same data sent to both: bytes per sample sent
print("ratio Vigil / VictoriaMetrics = %.3f  (target <= 0.80: %s); files only: %.3f" %
      (ratio, "met" if ratio <= 0.8 else "NOT MET", vg_files / vm_files))
if vm_count != sent - nans or vg_samples != sent:
    sys.exit("unexpected sample counts: VictoriaMetrics %d (want %d), Vigil %d (want %d)" %
             (vm_count, sent - nans, vg_samples, sent))
EOF
echo
echo "vigil-admin inspect $VIGIL_DATA:"
sed 's/^/  /' "$WORK/inspect.txt"
