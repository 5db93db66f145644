#!/usr/bin/env python3
"""Per-request latency of small HTTP requests, for one or more vigild binaries side by side.

    bench/macro/http_floor.py BUILD_A/server/vigild [BUILD_B/server/vigild ...]

Starts each binary on loopback with an empty data directory, then, over one keep-alive connection
per binary and alternating between binaries for 12 rounds, times 300 requests of each path below
(from sending the request to reading the whole answer, with a minimal socket client) and prints
the median of the round medians. The instant query at a fixed old time is answered from the query
cache after its first run, so the figure is what a repeated dashboard request costs; `/-/ready` is
the floor of the HTTP layer. Alternating rounds keep machine noise from favouring one binary.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

PATHS = ["/-/ready", "/api/v1/query?query=vector(1)&time=1700000000"]
ROUNDS = 12
PER_ROUND = 300


def exchange(s, path):
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    t = time.perf_counter()
    s.sendall(req)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(1 << 20)
    head, _, body = buf.partition(b"\r\n\r\n")
    n = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
    while len(body) < n:
        body += s.recv(1 << 20)
    return time.perf_counter() - t


def main(bins):
    root = tempfile.mkdtemp(prefix="vigil-http-floor-")
    procs, conns = [], []
    try:
        for i, b in enumerate(bins):
            port = 19500 + i
            d = os.path.join(root, str(i))
            os.makedirs(d)
            procs.append(subprocess.Popen(
                [b, f"--data-dir={d}", f"--http.listen=127.0.0.1:{port}", "--native.listen=",
                 "--log.level=warn"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for _ in range(200):
                try:
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/-/ready")
                    break
                except Exception:
                    time.sleep(0.05)
            c = socket.create_connection(("127.0.0.1", port))
            c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conns.append(c)
        res = {(b, p): [] for b in range(len(bins)) for p in PATHS}
        for _ in range(ROUNDS):
            for bi, c in enumerate(conns):
                for p in PATHS:
                    exchange(c, p)
                    res[(bi, p)].append(statistics.median(exchange(c, p) for _ in range(PER_ROUND)))
        for p in PATHS:
            print(p)
            for bi, b in enumerate(bins):
                print(f"  {statistics.median(res[(bi, p)]) * 1e6:7.1f} us  {b}")
    finally:
        for c in conns:
            c.close()
        for pr in procs:
            pr.terminate()
            pr.wait()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
