"""What the macro benchmark asks every system, per dataset: answer checks and dashboard queries.

A query has a PromQL form (Prometheus, VictoriaMetrics, Vigil) and an InfluxQL form for InfluxDB,
or the reason InfluxQL cannot say it. Results are normalised to {key: [(t, v), ...]} where the key
is the series' labels (or only the labels named in compare_on), so that answers of every system can
be compared value by value.
"""

import math

H = 3600


class Query:
    def __init__(self, qid, promql, *, kind, window_s=0, influxql=None, influx_shape=None,
                 skip_influx=None, compare_on=None, dashboard=True, note=""):
        self.id = qid
        self.promql = promql
        self.kind = kind                  # "instant" or "range"
        self.window_s = window_s          # the range of a range query (ending at te)
        self.influxql = influxql
        self.influx_shape = influx_shape  # how to read InfluxDB's answer (see normalise_influx)
        self.skip_influx = skip_influx
        self.compare_on = compare_on      # None: all labels; else the labels compared
        self.dashboard = dashboard        # timed (True) or only checked (False)
        self.note = note


def _time_clause(te, window_s):
    # InfluxQL takes epoch nanoseconds as integers; PromQL windows are (te - w, te].
    return f"time > {int((te - window_s) * 1e9)} AND time <= {int(te * 1e9)}"


def _influx_tags(selector):
    return " AND ".join(f"\"{k}\" = '{v}'" for k, v in selector.items())


RATE_SKIP = ("InfluxQL has no rate() with PromQL's window extrapolation (non_negative_derivative "
             "differs in windowing and edges), so its answer could not match")
HIST_SKIP = ("InfluxQL has no histogram_quantile over cumulative le buckets (no linear "
             "interpolation inside a bucket)")


def dashboard_queries(ds, te, span_s):
    """The dashboard queries for dataset ds ('tsbs-cpu-*', 'telemetry', 'real-scrape')."""
    six = min(6 * H, span_s)
    one = min(1 * H, span_s)
    if ds.startswith("tsbs"):
        m, meas, field, host = "cpu_usage_user", "cpu", "usage_user", "hostname"
        one_series = {"hostname": "host_0"}
        avg_m, avg_meas, avg_field = m, meas, field
        sum_label, rate_metric, hist_metric = "region", "cpu_usage_user", None
        last_re, last_from = "cpu_.*", "cpu"
    elif ds == "telemetry":
        m, meas, field, host = "node_load1", "node_load1", "value", "instance"
        one_series = {"instance": "host-0:9100"}
        avg_m, avg_meas, avg_field = m, meas, field
        sum_label, rate_metric = "service", "http_requests_total"
        hist_metric = "http_request_duration_seconds_bucket"
        last_re, last_from = ".+", "/.*/"
    else:  # real-scrape
        m, meas, field, host = "node_scrape_collector_duration_seconds", \
            "node_scrape_collector_duration_seconds", "value", "collector"
        one_series = {"instance": "127.0.0.1:19100"}
        avg_m, avg_meas, avg_field = "node_load1", "node_load1", "value"
        sum_label, rate_metric = "mode", "node_cpu_seconds_total"
        hist_metric = "prometheus_http_request_duration_seconds_bucket"
        last_re, last_from = ".+", "/.*/"
    qs = []
    rate_note = "" if ds != "tsbs" else "rate over gauges: the query's shape, not its meaning"
    qs.append(Query("sum_by_rate_6h", f"sum by ({sum_label}) (rate({rate_metric}[5m]))",
                    kind="range", window_s=six, skip_influx=RATE_SKIP, note=rate_note))
    if hist_metric:
        qs.append(Query("histogram_quantile_6h",
                        f"histogram_quantile(0.99, sum by (le) (rate({hist_metric}[5m])))",
                        kind="range", window_s=six, skip_influx=HIST_SKIP))
    qs.append(Query(
        "topk_1h", f"topk(5, avg_over_time({m}[{one}s]))", kind="instant",
        influxql=(f"SELECT top(\"mean\", \"{host}\", 5) FROM (SELECT mean(\"{field}\") FROM "
                  f"\"{meas}\" WHERE {_time_clause(te, one)} GROUP BY \"{host}\")"),
        influx_shape=("top", host), compare_on=[host]))
    qs.append(Query(
        "max_by_host_1h", f"max by ({host}) (max_over_time({m}[{one}s]))", kind="instant",
        influxql=(f"SELECT max(\"{field}\") FROM \"{meas}\" WHERE {_time_clause(te, one)} "
                  f"GROUP BY \"{host}\""),
        influx_shape=("value_by_tags",), compare_on=[host]))
    sel = ",".join(f'{k}="{v}"' for k, v in one_series.items())
    qs.append(Query(
        "avg_over_time_one_series_6h", f"avg_over_time({avg_m}{{{sel}}}[{six}s])", kind="instant",
        influxql=(f"SELECT mean(\"{avg_field}\") FROM \"{avg_meas}\" WHERE {_influx_tags(one_series)} "
                  f"AND {_time_clause(te, six)}"),
        influx_shape=("value_by_tags",), compare_on=[]))
    qs.append(Query(
        "last_value_every_series", f'{{__name__=~"{last_re}"}}', kind="instant",
        influxql=(f"SELECT last(*) FROM {last_from} WHERE {_time_clause(te, 300)} GROUP BY *"),
        influx_shape=("last_all",)))
    return qs


def check_queries(ds, te, span_s, line_measurement):
    """Answer checks that are not timed: raw samples of a few series and sample counts."""
    span = int(span_s) + 60
    if ds.startswith("tsbs"):
        raws = [("cpu_usage_user", {"hostname": "host_0"}), ("cpu_usage_idle", {"hostname": "host_7"})]
        counts = ["cpu_usage_user", "cpu_usage_guest_nice"]
    elif ds == "telemetry":
        raws = [("http_requests_total", {"instance": "host-1:9100", "handler": "/api/v1/users",
                                         "method": "GET", "code": "200"}),
                ("http_request_duration_seconds_sum", {"instance": "host-2:9100",
                                                       "handler": "/health"}),
                ("node_memory_MemAvailable_bytes", {"instance": "host-3:9100"})]
        counts = ["http_request_duration_seconds_bucket", "node_load1"]
    else:
        raws = [("node_cpu_seconds_total", {"cpu": "0", "mode": "user"}),
                ("go_goroutines", {"job": "prometheus"}),
                ("process_resident_memory_bytes", {"job": "node"})]
        counts = ["node_cpu_seconds_total", "prometheus_http_request_duration_seconds_bucket"]
    qs = []
    for metric, sel in raws:
        meas, field = _influx_names(metric, line_measurement)
        s = ",".join(f'{k}="{v}"' for k, v in sel.items())
        qs.append(Query(f"raw {metric}{{{s}}}", f"{metric}{{{s}}}[{span}s]", kind="instant",
                        influxql=(f"SELECT \"{field}\" FROM \"{meas}\" WHERE {_influx_tags(sel)} "
                                  f"AND {_time_clause(te, span)}"),
                        influx_shape=("raw",), compare_on=[], dashboard=False))
    for metric in counts:
        meas, field = _influx_names(metric, line_measurement)
        qs.append(Query(f"samples {metric}", f"sum(count_over_time({metric}[{span}s]))",
                        kind="instant",
                        influxql=(f"SELECT count(\"{field}\") FROM \"{meas}\" WHERE "
                                  f"{_time_clause(te, span)}"),
                        influx_shape=("value_by_tags",), compare_on=[], dashboard=False))
    return qs


def known_difference(system, q):
    """A documented semantic difference that explains a mismatch, or None. Mismatches are reported
    all the same; this only says why."""
    if system == "victoriametrics" and "rate(" in q.promql:
        return ("MetricsQL rate() does not extrapolate to the window edges as PromQL does "
                "(VictoriaMetrics documents it)")
    if system == "vigil" and "rate(" in q.promql:
        # Checked with promtool 2.42: series m = _ 10 20 30 at 1m steps, rate(m[5m]) at 3m is 0.1
        # in 2.42 (zero point taken first, 60 s, then under the 1.1-interval threshold) and
        # 0.08333 in PromQL 3.x and Vigil (threshold first: half an interval, 30 s).
        return ("Vigil extrapolates rate() at a series' start as PromQL 3.x and its test scripts "
                "do (the zero-point cut after the half-interval rule); the reference, Prometheus "
                "2.42, cuts before it. Only steps whose window starts over 1.1 sample intervals "
                "before a series' first sample differ")
    return None


def _influx_names(metric, line_measurement):
    if line_measurement and metric.startswith(line_measurement + "_"):
        return line_measurement, metric[len(line_measurement) + 1:]
    return metric, "value"


# ---- normalising answers -----------------------------------------------------------------------

def _key(labels, compare_on):
    if compare_on is not None:
        return tuple((k, labels.get(k, "")) for k in compare_on)
    return tuple(sorted(labels.items()))


def _num(v):
    return float(v)  # "NaN", "+Inf" parse too


def normalise_promql(q, data):
    out = {}
    if data["resultType"] == "vector":
        for r in data["result"]:
            out.setdefault(_key(r["metric"], q.compare_on), []).append((None, _num(r["value"][1])))
    elif data["resultType"] == "matrix":
        for r in data["result"]:
            pts = [(round(float(t) * 1000), _num(v)) for t, v in r["values"]]
            out.setdefault(_key(r["metric"], q.compare_on), []).extend(pts)
    elif data["resultType"] == "scalar":
        out[()] = [(None, _num(data["result"][1]))]
    return out


def normalise_influx(q, doc, line_measurement):
    shape = q.influx_shape[0]
    out = {}
    for s in doc["results"][0].get("series", []):
        cols = s["columns"]
        tags = s.get("tags") or {}
        if shape == "value_by_tags":
            for row in s["values"]:
                out.setdefault(_key(tags, q.compare_on), []).append((None, float(row[1])))
        elif shape == "top":
            tag = q.influx_shape[1]
            ti = cols.index(tag)
            for row in s["values"]:
                out.setdefault(_key({tag: row[ti]}, q.compare_on), []).append((None, float(row[1])))
        elif shape == "raw":
            out.setdefault((), []).extend((int(row[0]), float(row[1])) for row in s["values"]
                                          if row[1] is not None)
        elif shape == "last_all":
            meas = s["name"]
            for row in s["values"]:
                for c, v in zip(cols, row):
                    if c == "time" or v is None:
                        continue
                    field = c[len("last_"):] if c.startswith("last_") else c
                    name = meas if field == "value" else f"{meas}_{field}"
                    # GROUP BY * over several measurements lists every tag key, empty where absent.
                    labels = {k: v for k, v in tags.items() if v != ""}
                    labels["__name__"] = name
                    out.setdefault(_key(labels, q.compare_on), []).append((None, float(v)))
    return out


def close(a, b, rel=1e-9):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= rel * max(abs(a), abs(b))


def compare(ref, got, limit=5):
    """Differences between two normalised answers (empty list: the same)."""
    diffs = []
    for k in sorted(set(ref) | set(got), key=str):
        if k not in got:
            diffs.append(f"series {dict(k)} missing")
        elif k not in ref:
            diffs.append(f"series {dict(k)} extra")
        else:
            a, b = sorted(ref[k], key=lambda p: (p[0] or 0)), sorted(got[k], key=lambda p: (p[0] or 0))
            if len(a) != len(b):
                diffs.append(f"series {dict(k)}: {len(b)} points, expected {len(a)}")
            else:
                for (ta, va), (tb, vb) in zip(a, b):
                    if ta != tb or not close(va, vb):
                        diffs.append(f"series {dict(k)} at {ta}: {vb!r}, expected {va!r}")
                        break
        if len(diffs) >= limit:
            diffs.append("...")
            break
    return diffs
