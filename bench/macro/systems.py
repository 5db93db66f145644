"""The databases the macro benchmark runs: how each is started, loaded, flushed and queried.

Every system runs on 127.0.0.1 on a free port chosen at start, with its own data directory under
the run's /tmp folder, as a child process of the harness; it is stopped by its PID (SIGTERM, then
SIGKILL after a timeout). Nothing here touches a process the harness did not start.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import http.client as httpclient
import urllib.error
import urllib.parse
import urllib.request


class HarnessError(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def file_bytes(path, exclude=()):
    """Bytes of the files below path, skipping folders named in exclude: per file the smaller of
    its size and its allocated blocks, so that preallocated sparse files (InfluxDB's series file,
    WAL segments) count what they hold, and small files are not rounded up to a 4 KiB block."""
    total = 0
    for root, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in exclude]
        for f in files:
            try:
                st = os.lstat(os.path.join(root, f))
            except FileNotFoundError:
                continue
            total += min(st.st_size, st.st_blocks * 512)
    return total


def proc_status(pid):
    """VmRSS and VmHWM of a process, in bytes."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0]) * 1024
    return out


def proc_cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        stat = f.read()
    fields = stat[stat.rindex(")") + 2:].split()
    # fields[0] is field 3 (state); utime is field 14, stime field 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# One keep-alive connection per server address, as a dashboard's HTTP client keeps them: query
# latency is then the server's answer time plus one loopback exchange, not a TCP handshake and a
# client library's set-up per request. The client is a minimal HTTP/1.1 one over a socket
# (Content-Length, chunked and read-to-close bodies): Python's http.client spends about 0.1 ms per
# exchange parsing headers with the email package, more than small queries take in the servers,
# and the same for every system, which only pulled the ratios of small queries towards 1.
_CONNS = {}
# Wall seconds of the last http() exchange: request sent to full response body read, nothing
# after it (JSON parsing is the harness's work, not the server's).
last_exchange_s = 0.0


class _Conn:
    """One HTTP/1.1 keep-alive connection."""

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 2]
                return line
            self._fill()

    def _take(self, n):
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def exchange(self, method, path, body, headers, timeout):
        """Sends one request and reads its response: (status, headers, body)."""
        self.sock.settimeout(timeout)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body is not None or method in ("POST", "PUT"):
            head.append(f"Content-Length: {len(body or b'')}")
        self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + (body or b""))
        status_line = self._line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise httpclient.HTTPException(f"bad status line {status_line!r}")
        status = int(parts[1])
        hdrs = {}
        while True:
            line = self._line()
            if not line:
                break
            k, _, v = line.decode("latin-1").partition(":")
            hdrs[k.strip().lower()] = v.strip()
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            data = b""
        elif "chunked" in hdrs.get("transfer-encoding", "").lower():
            pieces = []
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():  # trailers, then the blank line
                        pass
                    break
                pieces.append(self._take(size))
                self._line()
            data = b"".join(pieces)
        elif "content-length" in hdrs:
            data = self._take(int(hdrs["content-length"]))
        else:  # the body runs to the end of the connection
            while True:
                try:
                    self._fill()
                except ConnectionError:
                    break
            data = bytes(self.buf)
            self.buf.clear()
            hdrs["connection"] = "close"
        return status, hdrs, data


def http(method, url, body=None, headers=None, timeout=600):
    global last_exchange_s
    u = urllib.parse.urlsplit(url)
    key = (u.hostname, u.port)
    path = (u.path or "/") + ("?" + u.query if u.query else "")
    for attempt in (0, 1):
        conn = _CONNS.get(key)
        reused = conn is not None
        if conn is None:
            conn = _Conn(u.hostname, u.port, timeout)
            _CONNS[key] = conn
        t0 = time.perf_counter()
        try:
            status, hdrs, data = conn.exchange(method, path, body, headers, timeout)
        except (httpclient.HTTPException, ConnectionError, OSError, ValueError):
            conn.close()
            _CONNS.pop(key, None)
            if reused and attempt == 0:
                continue  # the server closed an idle connection (or restarted): once more, fresh
            raise
        last_exchange_s = time.perf_counter() - t0
        if hdrs.get("connection", "").lower() == "close":
            conn.close()
            _CONNS.pop(key, None)
        return status, data


def close_connections(port=None):
    """Closes kept-alive connections (to one port, or all), e.g. when a server stops."""
    for key in [k for k in _CONNS if port is None or k[1] == port]:
        _CONNS.pop(key).close()


class System:
    """One database instance: a binary, a data directory and a port."""

    name = "?"
    protocols = ()          # ingestion protocols, in order of preference for the primary load
    query_language = "promql"

    def __init__(self, workdir, log_dir):
        self.workdir = workdir
        self.log_dir = log_dir
        self.proc = None
        self.port = None
        self.log_path = None

    # ---- life cycle ----------------------------------------------------------------------------

    def command(self):
        raise NotImplementedError

    def ready_path(self):
        raise NotImplementedError

    def start(self, timeout=180):
        os.makedirs(self.workdir, exist_ok=True)
        self.port = free_port()
        cmd = self.command()
        self.log_path = os.path.join(self.log_dir, f"{os.path.basename(self.workdir)}.log")
        log = open(self.log_path, "ab")
        log.write(("\n# " + " ".join(cmd) + "\n").encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir,
                                     start_new_session=True)
        _STARTED.add(self.proc)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"{self.name} exited with {self.proc.returncode} while "
                                   f"starting; see {self.log_path}")
            try:
                status, _ = http("GET", self.base() + self.ready_path(), timeout=5)
                if 200 <= status < 300:
                    self.after_start()
                    return
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            time.sleep(0.2)
        raise HarnessError(f"{self.name} not ready after {timeout} s; see {self.log_path}")

    def after_start(self):
        pass

    def stop(self, timeout=120):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        _STARTED.discard(self.proc)
        self.proc = None
        close_connections(self.port)

    def restart(self):
        self.stop()
        self.clear_caches()
        self.start()

    def clear_caches(self):
        """Removes caches the system persists across restarts (cold queries must not use them)."""

    @property
    def pid(self):
        return self.proc.pid

    def base(self):
        return f"http://127.0.0.1:{self.port}"

    # ---- loading, flushing, measuring -----------------------------------------------------------

    def write_url(self, protocol):
        raise NotImplementedError

    def flush_and_compact(self):
        """Makes the system persist and compact what it holds; returns a sentence saying how."""
        raise NotImplementedError

    def disk_bytes(self):
        raise NotImplementedError

    # ---- queries --------------------------------------------------------------------------------

    def promql(self, query, time_s=None, start_s=None, end_s=None, step_s=None):
        """Runs a PromQL query; returns the parsed JSON envelope's data."""
        if start_s is None:
            params = {"query": query, "time": _fmt(time_s)}
            path = "/api/v1/query"
        else:
            params = {"query": query, "start": _fmt(start_s), "end": _fmt(end_s),
                      "step": _fmt(step_s)}
            path = "/api/v1/query_range"
        params.update(self.extra_query_params())
        status, body = http("POST", self.base() + path, urllib.parse.urlencode(params).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise HarnessError(f"{self.name}: {query}: HTTP {status}: {body[:300]!r}")
        doc = json.loads(body)
        if doc.get("status") != "success":
            raise HarnessError(f"{self.name}: {query}: {doc}")
        return doc["data"]

    def extra_query_params(self):
        return {}

    def series_count(self, start_s, end_s):
        params = urllib.parse.urlencode({"match[]": '{__name__=~".+"}', "start": _fmt(start_s),
                                         "end": _fmt(end_s)}).encode()
        status, body = http("POST", self.base() + "/api/v1/series", params,
                            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 200:
            raise HarnessError(f"{self.name}: /api/v1/series: HTTP {status}: {body[:300]!r}")
        return len(json.loads(body)["data"])

    def version(self):
        return "?"


def _fmt(t):
    return f"{t:.3f}"


_STARTED = set()


def stop_all_started():
    """Stops every process this harness started and has not stopped yet (by PID)."""
    for p in list(_STARTED):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
        _STARTED.discard(p)


def _wait_quiet(measure, settle_s, timeout_s, poll_s=1.0):
    """Polls measure() until it returns the same value for settle_s seconds."""
    deadline = time.time() + timeout_s
    last, since = None, time.time()
    while time.time() < deadline:
        v = measure()
        if v != last:
            last, since = v, time.time()
        elif time.time() - since >= settle_s:
            return True
        time.sleep(poll_s)
    return False


# ---- Prometheus ---------------------------------------------------------------------------------

class Prometheus(System):
    name = "prometheus"
    protocols = ("remote-write",)

    def command(self):
        cfg = os.path.join(self.workdir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("# macro benchmark: no scrape targets, data arrives by remote write\n"
                    "global:\n  scrape_interval: 1h\n")
        return ["prometheus", f"--config.file={cfg}",
                f"--storage.tsdb.path={os.path.join(self.workdir, 'data')}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-remote-write-receiver", "--web.enable-admin-api",
                "--storage.tsdb.retention.time=100y", "--log.level=warn"]

    def ready_path(self):
        return "/-/ready"

    def write_url(self, protocol):
        return self.base() + "/api/v1/write"

    def flush_and_compact(self):
        status, body = http("POST", self.base() + "/api/v1/admin/tsdb/snapshot?skip_head=false")
        if status != 200:
            raise HarnessError(f"prometheus snapshot: HTTP {status}: {body[:300]!r}")
        self.snapshot = os.path.join(self.workdir, "data", "snapshots",
                                     json.loads(body)["data"]["name"])
        return ("TSDB snapshot (POST /api/v1/admin/tsdb/snapshot, head included): the head is "
                "written out as a block beside the blocks already compacted; bytes = the snapshot "
                "folder (blocks only, no WAL)")

    def disk_bytes(self):
        return file_bytes(self.snapshot)

    def version(self):
        out = subprocess.run(["prometheus", "--version"], capture_output=True, text=True)
        return (out.stdout or out.stderr).splitlines()[0]


# ---- VictoriaMetrics ----------------------------------------------------------------------------

class VictoriaMetrics(System):
    name = "victoriametrics"
    protocols = ("remote-write", "line")

    def command(self):
        return ["victoria-metrics", f"-storageDataPath={os.path.join(self.workdir, 'data')}",
                f"-httpListenAddr=127.0.0.1:{self.port}", "-retentionPeriod=100y",
                "-influxSkipSingleField", "-loggerLevel=ERROR", "-search.latencyOffset=0s",
                "-search.maxUniqueTimeseries=5000000", "-search.maxQueryDuration=10m"]

    def ready_path(self):
        return "/health"

    def write_url(self, protocol):
        if protocol == "line":
            return self.base() + "/write?precision=ms"
        return self.base() + "/api/v1/write"

    def clear_caches(self):
        shutil.rmtree(os.path.join(self.workdir, "data", "cache"), ignore_errors=True)

    def extra_query_params(self):
        # MetricsQL would otherwise widen the lookback to the series' own interval.
        return {}

    def _merges(self):
        status, body = http("GET", self.base() + "/metrics")
        active = 0
        for line in body.decode().splitlines():
            if line.startswith("vm_active_merges") or line.startswith("vm_pending_rows"):
                active += float(line.rsplit(" ", 1)[1])
        return active

    def flush_and_compact(self, months=()):
        # Twice: in 2 of 16 runs before 2026-11-27 19:30 UTC a single round left telemetry at
        # 0.842 and 0.927 B/sample where every other run settled at 0.967-0.987 (by hand: 0.860
        # right after force_flush, 0.941 once force_merge had run), so one round can end before
        # the merge has happened. The second round changes nothing once the first has settled.
        data = os.path.join(self.workdir, "data")
        for _ in range(2):
            http("GET", self.base() + "/internal/force_flush")
            for m in months:
                status, body = http("GET", self.base() + f"/internal/force_merge?partition_prefix={m}")
                if status != 200:
                    raise HarnessError(f"victoriametrics force_merge {m}: HTTP {status}: {body[:200]!r}")
            _wait_quiet(lambda: (self._merges(), file_bytes(data, ("cache",))), 5, 300)
        return ("twice: GET /internal/force_flush, then /internal/force_merge?partition_prefix=<month> "
                "for each month the data covers, then wait until vm_active_merges and "
                "vm_pending_rows are 0 and the folder size is stable for 5 s; bytes = "
                "storageDataPath without cache/")

    def disk_bytes(self):
        return file_bytes(os.path.join(self.workdir, "data"), ("cache",))

    def version(self):
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "victoria-metrics"],
                             capture_output=True, text=True)
        return "victoria-metrics " + out.stdout.strip()


# ---- InfluxDB 1.x -------------------------------------------------------------------------------

class InfluxDB(System):
    name = "influxdb"
    protocols = ("line",)
    query_language = "influxql"
    db = "bench"

    def command(self):
        cfg = os.path.join(self.workdir, "influxdb.conf")
        d = self.workdir
        with open(cfg, "w") as f:
            f.write(f"""# macro benchmark configuration (bench/macro/README.md)
reporting-disabled = true
bind-address = "127.0.0.1:{free_port()}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  index-version = "tsi1"
  query-log-enabled = false
  cache-max-memory-size = "8g"
  cache-snapshot-write-cold-duration = "5s"
  compact-full-write-cold-duration = "10s"
  max-series-per-database = 0
  max-values-per-tag = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[http]
  bind-address = "127.0.0.1:{self.port}"
  log-enabled = false
  max-body-size = 0
""")
        return ["influxd", "-config", cfg]

    def ready_path(self):
        return "/ping"

    def after_start(self):
        self.influxql(f"CREATE DATABASE {self.db}", post=True)

    def write_url(self, protocol):
        return self.base() + f"/write?db={self.db}&precision=ms"

    def influxql(self, q, post=False):
        params = urllib.parse.urlencode({"q": q, "db": self.db, "epoch": "ms"})
        if post:
            status, body = http("POST", self.base() + "/query", params.encode(),
                                 {"Content-Type": "application/x-www-form-urlencoded"})
        else:
            status, body = http("GET", self.base() + "/query?" + params)
        if status != 200:
            raise HarnessError(f"influxdb: {q}: HTTP {status}: {body[:300]!r}")
        doc = json.loads(body)
        for r in doc.get("results", []):
            if "error" in r:
                raise HarnessError(f"influxdb: {q}: {r['error']}")
        return doc

    def flush_and_compact(self):
        wal = os.path.join(self.workdir, "wal")
        data = os.path.join(self.workdir, "data")
        # Snapshot after 5 s without writes, full compaction after 10 s (see the config above).
        _wait_quiet(lambda: (file_bytes(wal), file_bytes(data)), 15, 600)
        return ("configuration cache-snapshot-write-cold-duration=5s and "
                "compact-full-write-cold-duration=10s, then wait until the wal and data folders "
                "are unchanged for 15 s; bytes = data + wal folders (meta excluded)")

    def disk_bytes(self):
        return (file_bytes(os.path.join(self.workdir, "data")) +
                file_bytes(os.path.join(self.workdir, "wal")))

    def series_count(self, start_s, end_s):
        # SHOW SERIES counts measurement+tag sets; each field of one is a series elsewhere.
        fields = {}
        doc = self.influxql("SHOW FIELD KEYS")
        for s in doc["results"][0].get("series", []):
            fields[s["name"]] = len(s["values"])
        total = 0
        doc = self.influxql("SHOW SERIES")
        for s in doc["results"][0].get("series", []):
            for (key,) in s["values"]:
                total += fields.get(_measurement_of(key), 1)
        return total

    def version(self):
        out = subprocess.run(["influxd", "version"], capture_output=True, text=True)
        return out.stdout.strip()


def _measurement_of(series_key):
    """The measurement of a series key such as cpu,host=a (commas and spaces may be escaped)."""
    m = re.match(r"((?:\\.|[^,\\])*)", series_key)
    return m.group(1).replace("\\,", ",").replace("\\ ", " ")


# ---- Vigil --------------------------------------------------------------------------------------

class Vigil(System):
    name = "vigil"
    protocols = ("remote-write", "line")
    binary = None  # set by the harness to the release build's vigild

    def command(self):
        return [self.binary, f"--data-dir={os.path.join(self.workdir, 'data')}",
                f"--http.listen=127.0.0.1:{self.port}",
                "--native.listen=", "--retention.time=0", "--log.level=warn"]

    def ready_path(self):
        return "/-/ready"

    def write_url(self, protocol):
        if protocol == "line":
            return self.base() + "/write?precision=ms"
        return self.base() + "/api/v1/write"

    def flush_and_compact(self):
        # A settled snapshot, as VictoriaMetrics is force-merged: blocks and head merged and
        # written anew as compaction leaves them over time (Db::SnapshotCompacted). A plain
        # snapshot holds whatever 2 h blocks the load left behind, and bytes/sample then depends
        # on where the data falls against block boundaries at that time of day (telemetry
        # 0.65-0.70). The live database is left as the load left it, for the queries.
        status, body = http("POST", self.base() + "/api/v1/admin/tsdb/snapshot?compact=true")
        self.snapshot = None
        if status == 200:
            self.snapshot = os.path.join(self.workdir, "data", "snapshots",
                                         json.loads(body)["data"]["name"])
            return ("POST /api/v1/admin/tsdb/snapshot?compact=true (Db::SnapshotCompacted: blocks "
                    "and head merged and written as blocks of the largest compaction range); "
                    "bytes = the snapshot folder (blocks only, no WAL)")
        loud_note = (f"no snapshot API (HTTP {status}: {body[:120]!r}); bytes = the data folder as "
                     "it is, WAL included")
        return loud_note

    def disk_bytes(self):
        if self.snapshot:
            return file_bytes(self.snapshot)
        return file_bytes(os.path.join(self.workdir, "data"), ("snapshots",))

    def version(self):
        out = subprocess.run(["git", "-C", os.path.dirname(__file__), "describe", "--always",
                              "--dirty"], capture_output=True, text=True)
        return "vigil " + out.stdout.strip()


PEERS = (Prometheus, VictoriaMetrics, InfluxDB)
