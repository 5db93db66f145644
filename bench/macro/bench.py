#!/usr/bin/env python3
"""Vigil's macro benchmark: Vigil beside Prometheus, VictoriaMetrics and InfluxDB on the same data.

Run it through bench/macro/run.sh (which installs the peers and builds the sender and vigild);
bench/macro/README.md says what is measured and how. Standard library only.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import queries as Q  # noqa: E402
import systems as S  # noqa: E402

MIB = 1024 * 1024


def log(msg):
    print(f"[{datetime.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def loud(msg):
    bar = "!" * 100
    print(f"{bar}\n!!! {msg}\n{bar}", flush=True)


# ---- datasets -----------------------------------------------------------------------------------

def dataset_specs(quick):
    if quick:
        return {
            "tsbs-cpu-100": ["--dataset", "tsbs", "--hosts", "100", "--hours", "2"],
            "telemetry": ["--dataset", "telemetry", "--targets", "10", "--hours", "2"],
            "real-scrape": ["--dataset", "real-scrape"],
        }, ["--dataset", "highcard", "--series", "100000", "--samples-per-series", "1"]
    return {
        "tsbs-cpu-100": ["--dataset", "tsbs", "--hosts", "100", "--hours", "6"],
        "tsbs-cpu-1000": ["--dataset", "tsbs", "--hosts", "1000", "--hours", "6"],
        "telemetry": ["--dataset", "telemetry", "--targets", "30", "--hours", "6"],
        "real-scrape": ["--dataset", "real-scrape"],
    }, ["--dataset", "highcard", "--series", "1000000", "--samples-per-series", "1"]


class Harness:
    def __init__(self, args):
        self.args = args
        self.sender = args.sender
        self.run_id = datetime.datetime.utcnow().strftime("%Y%m%dT%H%M%SZ")
        self.workroot = os.path.join(args.workdir, self.run_id)
        self.log_dir = os.path.join(self.workroot, "logs")
        os.makedirs(self.log_dir, exist_ok=True)
        # Every load of a run ends at the same minute, ten minutes ago: identical samples.
        self.end_ms = (int(time.time()) // 60 - 10) * 60_000
        self.classes = [c for c in S.PEERS if c.name in args.systems]
        if args.vigild and "vigil" in args.systems:
            S.Vigil.binary = args.vigild
            self.classes.append(S.Vigil)
        self.record = {
            "run_id": self.run_id,
            "started": datetime.datetime.utcnow().isoformat() + "Z",
            "mode": "quick" if args.quick else "default",
            "machine": machine(),
            "versions": {},
            "options": {"connections": args.connections, "batch_samples": args.batch_samples,
                        "cold_runs": args.cold_runs, "warm_runs": args.warm_runs},
            "datasets": {},
            "highcard": {},
            "notes": [],
        }
        if not args.vigild:
            self.record["notes"].append("vigild not built (server/vigild_main.cc absent): peers only")

    def sender_cmd(self, spec, *extra):
        return [self.sender, *spec, "--end-ms", str(self.end_ms), *extra]

    def describe(self, spec):
        out = subprocess.run(self.sender_cmd(spec, "--describe"), capture_output=True, text=True)
        if out.returncode != 0:
            raise S.HarnessError(f"sender --describe failed: {out.stderr}")
        return json.loads(out.stdout)

    # ---- profiles (--perf): perf record on Vigil during a phase, a text report beside the record -

    def perf_start(self, inst, phase):
        if not self.args.perf or inst.name != "vigil" or not shutil.which("perf"):
            return None
        data = os.path.join(self.workroot, f"perf-{phase}.data")
        p = subprocess.Popen(["perf", "record", "-F", "499", "-p", str(inst.pid), "-o", data],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        S._STARTED.add(p)
        return p, data, phase

    def perf_stop(self, handle):
        if handle is None:
            return
        p, data, phase = handle
        p.send_signal(S.signal.SIGINT)
        p.wait(60)
        S._STARTED.discard(p)
        out_dir = os.path.join(self.args.results, "perf")
        os.makedirs(out_dir, exist_ok=True)
        out = os.path.join(out_dir, f"{self.run_id}-{phase}.txt")
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children",
                              "--percent-limit", "0.5", "--sort", "dso,symbol"],
                             capture_output=True, text=True)
        with open(out, "w") as f:
            for line in rep.stdout.splitlines():
                # perf pads every row to the longest symbol; Boost's run to kilobytes.
                line = re.sub(r"\s+-\s+-\s*$", "", line.rstrip())
                f.write(re.sub(r"  +", " ", line)[:240] + "\n")
        self.record.setdefault("profiles", {})[phase] = out
        log(f"  profile of vigil ({phase}): {out}")

    def load(self, inst, spec, protocol):
        cmd = self.sender_cmd(spec, "--protocol", protocol, "--url", inst.write_url(protocol),
                              "--server-pid", str(inst.pid), "--connections",
                              str(self.args.connections), "--batch-samples",
                              str(self.args.batch_samples))
        out = subprocess.run(cmd, capture_output=True, text=True)
        try:
            res = json.loads(out.stdout.strip().splitlines()[-1])
        except (IndexError, json.JSONDecodeError):
            raise S.HarnessError(f"sender failed ({out.returncode}): {out.stderr.strip()}")
        if not res.get("ok"):
            loud(f"LOAD FAILED: {inst.name} {protocol}: {res.get('error')}")
        return res

    # ---- one dataset ----------------------------------------------------------------------------

    def run_dataset(self, ds, spec):
        self.current_ds = ds
        desc = self.describe(spec)
        log(f"dataset {ds}: {desc['series']} series, {desc['samples']} samples "
            f"({desc['dropped_non_finite']} non-finite dropped), "
            f"{(desc['end_ms'] - desc['start_ms']) / 3.6e6:.2f} h")
        rec = {"describe": desc, "loads": [], "disk": {}, "checks": {}, "queries": {}}
        self.record["datasets"][ds] = rec
        te = (desc["end_ms"] // 60_000 + 1) * 60  # next whole minute after the last sample (s)
        span_s = (desc["end_ms"] - desc["start_ms"]) // 60_000 * 60
        line_measurement = "cpu" if ds.startswith("tsbs") else ""
        dash = Q.dashboard_queries(ds, te, span_s)
        checks = Q.check_queries(ds, te, span_s, line_measurement)
        months = sorted({time.strftime("%Y_%m", time.gmtime(t / 1000))
                         for t in (desc["start_ms"], desc["end_ms"])})
        primaries = {}
        answers = {}
        for cls in self.classes:
            for protocol in cls.protocols:
                primary = protocol == cls.protocols[0]
                inst = cls(os.path.join(self.workroot, f"{ds}-{cls.name}-{protocol}"), self.log_dir)
                inst.start()
                self.record["versions"].setdefault(cls.name, inst.version())
                prof = self.perf_start(inst, f"{ds}-ingest-{protocol}")
                res = self.load(inst, spec, protocol)
                self.perf_stop(prof)
                res["system"] = cls.name
                mem = S.proc_status(inst.pid)
                res["vm_hwm_bytes"] = mem["VmHWM"]
                res["vm_rss_bytes"] = mem["VmRSS"]
                rec["loads"].append(res)
                log(f"  {cls.name:16s} {protocol:12s} {res['samples_per_second'] / 1e3:9.1f} k "
                    f"samples/s  {res['server_cpu_seconds_per_million']:6.3f} CPU s/M  "
                    f"peak RSS {mem['VmHWM'] / MIB:7.1f} MiB  (sender CPU "
                    f"{res['sender_cpu_seconds']:.2f} s)")
                if primary:
                    if cls is S.VictoriaMetrics:
                        how = inst.flush_and_compact(months)
                    else:
                        how = inst.flush_and_compact()
                    nbytes = inst.disk_bytes()
                    rec["disk"][cls.name] = {"bytes": nbytes,
                                             "bytes_per_sample": nbytes / desc["samples"],
                                             "how": how}
                    log(f"  {cls.name:16s} on disk: {nbytes / MIB:.1f} MiB, "
                        f"{nbytes / desc['samples']:.3f} B/sample")
                    answers[cls.name] = self.answers(inst, checks + dash, line_measurement,
                                                     te, span_s, desc)
                    primaries[cls.name] = inst
                inst.stop()
                if not primary and not self.args.keep:
                    shutil.rmtree(inst.workdir, ignore_errors=True)
        rec["checks"] = self.compare_answers(ds, answers, checks + dash)
        for name, inst in primaries.items():
            rec["queries"][name] = self.time_queries(inst, dash, line_measurement, te)
            inst.stop()
            if not self.args.keep:
                shutil.rmtree(inst.workdir, ignore_errors=True)

    # ---- answers --------------------------------------------------------------------------------

    def run_query(self, inst, q, te):
        if inst.query_language == "influxql":
            return inst.influxql(q.influxql)
        if q.kind == "range":
            return inst.promql(q.promql, start_s=te - q.window_s, end_s=te, step_s=60)
        return inst.promql(q.promql, time_s=te)

    def answers(self, inst, qs, line_measurement, te, span_s, desc):
        out = {"series_count": inst.series_count(desc["start_ms"] / 1000 - 60, te)}
        for q in qs:
            if inst.query_language == "influxql" and q.influxql is None:
                out[q.id] = {"skipped": q.skip_influx}
                continue
            try:
                raw = self.run_query(inst, q, te)
                if inst.query_language == "influxql":
                    out[q.id] = {"result": Q.normalise_influx(q, raw, line_measurement)}
                else:
                    out[q.id] = {"result": Q.normalise_promql(q, raw)}
            except S.HarnessError as e:
                out[q.id] = {"error": str(e)}
        return out

    def compare_answers(self, ds, answers, qs):
        """Compares every system with the reference (Prometheus if present, else the first)."""
        report = {"reference": None, "mismatches": [], "compared": 0}
        if not answers:
            return report
        ref_name = "prometheus" if "prometheus" in answers else next(iter(answers))
        report["reference"] = ref_name
        ref = answers[ref_name]
        for name, got in answers.items():
            if name == ref_name:
                continue
            if got["series_count"] != ref["series_count"]:
                report["mismatches"].append({"system": name, "query": "series count",
                                             "diffs": [f"{got['series_count']} series, "
                                                       f"{ref_name} has {ref['series_count']}"]})
            for q in qs:
                a, b = ref.get(q.id, {}), got.get(q.id, {})
                if "skipped" in b:
                    continue
                if "error" in a or "error" in b:
                    report["mismatches"].append({"system": name, "query": q.id,
                                                 "diffs": [a.get("error") or b.get("error")]})
                    continue
                diffs = Q.compare(a["result"], b["result"])
                report["compared"] += 1
                if diffs:
                    m = {"system": name, "query": q.id, "diffs": diffs}
                    known = Q.known_difference(name, q)
                    if known:
                        m["known"] = known
                    report["mismatches"].append(m)
        for ref_only in qs:
            if "error" in ref.get(ref_only.id, {}):
                report["mismatches"].append({"system": ref_name, "query": ref_only.id,
                                             "diffs": [ref[ref_only.id]["error"]]})
        sizes = {n: {q.id: len(a[q.id].get("result", {})) for q in qs if q.id in a}
                 for n, a in answers.items()}
        report["series_counts"] = {n: a["series_count"] for n, a in answers.items()}
        report["result_sizes"] = sizes
        if report["mismatches"]:
            lines = [f"ANSWER MISMATCH on {ds} (reference {ref_name}, values within 1e-9 rel.):"]
            for m in report["mismatches"]:
                known = f" [known: {m['known']}]" if m.get("known") else ""
                lines.append(f"  {m['system']} / {m['query']}{known}: " +
                             "; ".join(d[:200] for d in m["diffs"][:3]))
            loud("\n!!! ".join(lines))
        else:
            log(f"  answers agree: {report['compared']} comparisons against {ref_name}")
        return report

    # ---- timing ---------------------------------------------------------------------------------

    def time_once(self, inst, q, te):
        """Seconds from sending the query to reading the whole answer (see README, latency)."""
        self.run_query(inst, q, te)
        return S.last_exchange_s

    def time_queries(self, inst, qs, line_measurement, te):
        runnable = [q for q in qs if inst.query_language != "influxql" or q.influxql]
        cold = {q.id: [] for q in runnable}
        for r in range(self.args.cold_runs):
            inst.restart()
            # Each restart starts the round at another query, so each is first after a restart once.
            order = runnable[r % len(runnable):] + runnable[:r % len(runnable)]
            for q in order:
                cold[q.id].append(self.time_once(inst, q, te))
        if self.args.cold_runs == 0:
            inst.start()
        out = {}
        prof = self.perf_start(inst, f"{self.current_ds}-queries-warm")
        for q in qs:
            if q not in runnable:
                out[q.id] = {"skipped": q.skip_influx}
                continue
            self.time_once(inst, q, te)  # warm-up
            warm = [self.time_once(inst, q, te) for _ in range(self.args.warm_runs)]
            out[q.id] = {"promql": q.promql, "influxql": q.influxql,
                         "cold_runs_s": cold[q.id], "warm_runs_s": warm,
                         "cold_median_s": statistics.median(cold[q.id]) if cold[q.id] else None,
                         "warm_median_s": statistics.median(warm)}
            log(f"  {inst.name:16s} {q.id:28s} cold {fmt_ms(out[q.id]['cold_median_s'])}  "
                f"warm {fmt_ms(out[q.id]['warm_median_s'])}")
        self.perf_stop(prof)
        mem = S.proc_status(inst.pid)
        out["_vm_hwm_bytes"] = mem["VmHWM"]
        return out

    # ---- high cardinality -----------------------------------------------------------------------

    def run_highcard(self, spec):
        desc = self.describe(spec)
        log(f"highcard: {desc['series']} series x {desc['samples'] // desc['series']} sample(s)")
        rec = {"describe": desc, "systems": {}}
        self.record["highcard"] = rec
        te = (desc["end_ms"] // 60_000 + 1) * 60
        for cls in self.classes:
            protocol = cls.protocols[0]
            inst = cls(os.path.join(self.workroot, f"highcard-{cls.name}"), self.log_dir)
            inst.start()
            self.record["versions"].setdefault(cls.name, inst.version())
            time.sleep(3)
            before = S.proc_status(inst.pid)["VmRSS"]
            prof = self.perf_start(inst, "highcard-ingest")
            res = self.load(inst, spec, protocol)
            self.perf_stop(prof)
            time.sleep(5)  # let buffered rows reach the index (VictoriaMetrics flushes each ~1 s)
            mem = S.proc_status(inst.pid)
            try:
                if cls is S.InfluxDB:
                    doc = inst.influxql("SHOW SERIES EXACT CARDINALITY")
                    n = sum(s["values"][0][0] for s in doc["results"][0].get("series", []))
                    if n != desc["series"]:
                        # InfluxDB 1.6's TSI cardinality has been seen to lag at 1 M series while
                        # every point was queryable: say what a count of the samples finds too.
                        doc = inst.influxql("SELECT count(value) FROM hc_requests_total "
                                            "WHERE time > 0")
                        samples = doc["results"][0]["series"][0]["values"][0][1]
                        loud(f"highcard: influxdb SHOW SERIES EXACT CARDINALITY = {n}; "
                             f"count(value) = {samples} of {desc['samples']} samples sent")
                        rec.setdefault("notes", []).append(
                            f"influxdb: exact cardinality {n}, samples counted {samples}")
                else:
                    data = inst.promql("count(last_over_time(hc_requests_total[1h]))", time_s=te)
                    n = int(float(data["result"][0]["value"][1])) if data["result"] else 0
            except S.HarnessError as e:
                n = f"error: {e}"
            per = (mem["VmRSS"] - before) / max(1, desc["series"])
            rec["systems"][cls.name] = {
                "protocol": protocol, "load": res, "rss_before_bytes": before,
                "rss_after_bytes": mem["VmRSS"], "vm_hwm_bytes": mem["VmHWM"],
                "series_seen": n, "bytes_per_active_series": per}
            if n != desc["series"]:
                loud(f"highcard: {cls.name} reports {n} series, {desc['series']} were sent")
            log(f"  {cls.name:16s} RSS {before / MIB:.0f} -> {mem['VmRSS'] / MIB:.0f} MiB "
                f"(peak {mem['VmHWM'] / MIB:.0f} MiB): {per:.0f} B/active series; "
                f"{res['samples_per_second'] / 1e3:.1f} k samples/s")
            inst.stop()
            if not self.args.keep:
                shutil.rmtree(inst.workdir, ignore_errors=True)

    # ---- the run --------------------------------------------------------------------------------

    def run(self):
        specs, hc = dataset_specs(self.args.quick)
        t0 = time.time()
        for ds, spec in specs.items():
            if self.args.datasets and ds not in self.args.datasets:
                continue
            try:
                self.run_dataset(ds, spec)
            except S.HarnessError as e:
                # One failing system must not lose the rest of the run: record it, loudly.
                loud(f"dataset {ds} aborted: {e}")
                self.record["datasets"].setdefault(ds, {}).update({"error": str(e)})
                S.stop_all_started()
        if not self.args.no_highcard:
            try:
                self.run_highcard(hc)
            except S.HarnessError as e:
                loud(f"highcard aborted: {e}")
                self.record["highcard"]["error"] = str(e)
                S.stop_all_started()
        self.record["finished"] = datetime.datetime.utcnow().isoformat() + "Z"
        self.record["elapsed_s"] = time.time() - t0
        self.record["ratios"] = ratio_table(self.record)
        os.makedirs(self.args.results, exist_ok=True)
        path = os.path.join(self.args.results, f"{self.run_id}-{self.record['mode']}.json")
        with open(path, "w") as f:
            json.dump(self.record, f, indent=1, default=str)
        print()
        print(render_table(self.record))
        log(f"record: {path} ({self.record['elapsed_s'] / 60:.1f} min)")
        if not self.args.keep:
            shutil.rmtree(self.workroot, ignore_errors=True)


def fmt_ms(s):
    return "     -   " if s is None else f"{s * 1e3:8.2f} ms"


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    commit = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "rev-parse",
                             "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "logical_cpus": os.cpu_count(), "memory_gib": round(mem_kb / 2**20, 1),
            "kernel": platform.release(), "loadavg_at_start": os.getloadavg(),
            "vigil_commit": commit, "python": platform.python_version()}


# ---- ratios -------------------------------------------------------------------------------------

# (figure, better, target ratio Vigil / best peer or None)
TARGETS = {
    "ingest samples/CPU-s": ("higher", 2.0),
    "ingest samples/s": ("higher", None),
    "bytes/sample": ("lower", 0.7),
    "bytes/active series": ("lower", 0.5),
    "peak RSS": ("lower", None),
    "query": ("lower", 0.5),
}


def ratio_table(rec):
    rows = []

    def add(figure, kind, values):
        better, target = TARGETS[kind]
        peers = {k: v for k, v in values.items() if k != "vigil" and v is not None}
        if not peers:
            return
        pick = max if better == "higher" else min
        best_name = pick(peers, key=peers.get)
        vigil = values.get("vigil")
        ratio = vigil / peers[best_name] if vigil is not None and peers[best_name] else None
        met = None
        if ratio is not None and target is not None and kind in ("bytes/sample",) and \
                not (figure.startswith("telemetry") or figure.startswith("real-scrape")):
            target = None  # the byte target is stated for realistic telemetry and real-scrape
        if ratio is not None and target is not None:
            met = ratio >= target if better == "higher" else ratio <= target
        rows.append({"figure": figure, "better": better, "vigil": vigil, "best_peer": best_name,
                     "best_peer_value": peers[best_name], "ratio": ratio, "target": target,
                     "met": met, "all": values})

    for ds, d in rec["datasets"].items():
        d = {"loads": [], "disk": {}, "queries": {}, **d}
        for proto in ("remote-write", "line"):
            loads = {l["system"]: l for l in d["loads"] if l["protocol"] == proto and l.get("ok")}
            if not loads:
                continue
            add(f"{ds} ingest {proto} samples/CPU-s", "ingest samples/CPU-s",
                {n: 1e6 / l["server_cpu_seconds_per_million"] for n, l in loads.items()
                 if l["server_cpu_seconds_per_million"] > 0})
            add(f"{ds} ingest {proto} samples/s", "ingest samples/s",
                {n: l["samples_per_second"] for n, l in loads.items()})
        add(f"{ds} bytes/sample", "bytes/sample",
            {n: v["bytes_per_sample"] for n, v in d["disk"].items()})
        add(f"{ds} peak RSS (load)", "peak RSS",
            {l["system"]: l["vm_hwm_bytes"] for l in d["loads"] if l["protocol"] ==
             ("line" if l["system"] == "influxdb" else "remote-write")})
        qids = []
        for sysq in d["queries"].values():
            qids += [k for k in sysq if not k.startswith("_") and k not in qids]
        for qid in qids:
            for temp in ("cold", "warm"):
                vals = {n: q[qid].get(f"{temp}_median_s") for n, q in d["queries"].items()
                        if qid in q and "skipped" not in q[qid]}
                add(f"{ds} {qid} {temp}", "query", vals)
    hc = rec.get("highcard", {}).get("systems", {})
    if hc:
        add("highcard bytes/active series", "bytes/active series",
            {n: v["bytes_per_active_series"] for n, v in hc.items()})
        add("highcard peak RSS", "peak RSS", {n: v["vm_hwm_bytes"] for n, v in hc.items()})
    return rows


def _fmt_value(kind, v):
    if v is None:
        return "-"
    if "samples" in kind:
        return f"{v / 1e3:.1f}k"
    if "RSS" in kind:
        return f"{v / MIB:.0f} MiB"
    if "bytes/active" in kind:
        return f"{v:.0f} B"
    if "bytes/sample" in kind:
        return f"{v:.3f}"
    return f"{v * 1e3:.2f} ms"


def render_table(rec):
    lines = [f"machine: {rec['machine']['cpu']}, {rec['machine']['logical_cpus']} logical CPUs, "
             f"{rec['machine']['memory_gib']} GiB; run {rec['run_id']} ({rec['mode']})",
             "versions: " + "; ".join(f"{k}: {v}" for k, v in rec["versions"].items())]
    w = max([len(r["figure"]) for r in rec["ratios"]] + [10])
    lines.append(f"{'figure':{w}s} | {'vigil':>10s} | {'best peer':>26s} | {'ratio':>6s} | target")
    lines.append("-" * (w + 70))
    for r in rec["ratios"]:
        kind = r["figure"]
        peer = f"{r['best_peer']} {_fmt_value(kind, r['best_peer_value'])}"
        ratio = "-" if r["ratio"] is None else f"{r['ratio']:.2f}"
        tgt = ""
        if r["target"] is not None:
            op = ">=" if r["better"] == "higher" else "<="
            tgt = f"{op} {r['target']}"
            if r["met"] is not None:
                tgt += "  met" if r["met"] else "  NOT MET"
        lines.append(f"{kind:{w}s} | {_fmt_value(kind, r['vigil']):>10s} | {peer:>26s} | "
                     f"{ratio:>6s} | {tgt}")
    mism = sum(len(d.get("checks", {}).get("mismatches", [])) for d in rec["datasets"].values())
    lines.append(f"answer checks: {mism} mismatch(es) (details in the JSON record under "
                 f"datasets.<name>.checks)")
    return "\n".join(lines)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes, to shake the harness out")
    p.add_argument("--sender", required=True, help="path of vigil-macro-load")
    p.add_argument("--vigild", default="", help="path of vigild (empty: peers only)")
    p.add_argument("--systems", default="prometheus,victoriametrics,influxdb,vigil",
                   type=lambda s: s.split(","))
    p.add_argument("--datasets", default="", type=lambda s: [x for x in s.split(",") if x])
    p.add_argument("--no-highcard", action="store_true")
    p.add_argument("--connections", type=int, default=4)
    p.add_argument("--batch-samples", type=int, default=10_000)
    p.add_argument("--cold-runs", type=int, default=5)
    p.add_argument("--warm-runs", type=int, default=5)
    p.add_argument("--workdir", default="/tmp/vigil-macro")
    p.add_argument("--results", default=os.path.join(here, "results"))
    p.add_argument("--keep", action="store_true", help="keep data directories")
    p.add_argument("--perf", action="store_true",
                   help="profile vigild with perf during loads and warm queries (results/perf/)")
    args = p.parse_args()
    h = Harness(args)
    try:
        h.run()
    finally:
        S.stop_all_started()
        if not args.keep:
            shutil.rmtree(h.workroot, ignore_errors=True)


if __name__ == "__main__":
    main()
