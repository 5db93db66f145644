// Write-protocol benchmarks: line-protocol parsing and remote-write decoding, parse-only and
// parse + append into a Db over the in-memory file system (WAL sync never: the CPU cost of the
// protocol and the append path, not of fsync). One core; items_per_second = samples/s.
//   server_bench --benchmark_filter=LineProtocol
//   server_bench --benchmark_filter=RemoteWrite
//
// Instructions per sample (robust on a loaded machine): every steady-state request of the
// *_Ingest benchmarks goes through SteadyIngestLp / SteadyIngestRw (never inlined, not called by
// the warm-up), and each run prints "steady: <bodies> bodies, <samples> samples" to stderr, so
//   valgrind --tool=callgrind --toggle-collect='*SteadyIngestLp*' server_bench
//       --benchmark_filter='LineProtocol_IngestTelemetry/1000/1/0' --benchmark_min_time=0.01
// gives Ir(SteadyIngestLp) / (sum of printed samples) = instructions per sample.
#include <benchmark/benchmark.h>

#include <charconv>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "bench/data/datasets.h"
#include "server/ingest/ingest.h"
#include "server/ingest/line_protocol_parser.h"
#include "server/ingest/remote_write_decode.h"
#include "server/ingest/remote_write_encode.h"
#include "server/ingest/series_cache.h"
#include "storage/base/clock.h"
#include "storage/base/logging.h"
#include "storage/base/mem_file_system.h"
#include "storage/db.h"
#include "storage/labels.h"

namespace vigil::server::ingest {
namespace {

constexpr int64_t kStartMs = 1'700'000'000'000;

// ---- line protocol: TSBS cpu lines (10 fields, 10 tags), `lines_per_host` timestamps -----------

struct LpData {
  std::vector<std::string> series_keys;  // "cpu,hostname=host_0,region=...": one per host
  size_t fields = 10;
};

LpData MakeLpHosts(int hosts) {
  bench::TsbsCpuOptions o;
  o.hosts = hosts;
  o.samples_per_series = 1;
  o.tsbs_tags = true;
  const bench::Dataset ds = bench::TsbsCpu(o);
  LpData d;
  // Series come host by host, 10 fields each; the tags are those of the field series.
  for (size_t i = 0; i < ds.series.size(); i += 10) {
    auto ls = storage::ParseLabels(ds.series[i].name);
    std::string key = "cpu";
    for (const storage::Label& l : *ls) {
      if (l.name == "__name__") continue;
      key += ',';
      key += l.name;
      key += '=';
      key += l.value;
    }
    d.series_keys.push_back(key);
  }
  return d;
}

// One body: every host at `steps` timestamps starting at step `first`, nanosecond precision.
std::string LpBody(const LpData& d, int first, int steps) {
  static const char* kFields[] = {"usage_user",    "usage_system", "usage_idle",  "usage_nice",
                                  "usage_iowait",  "usage_irq",    "usage_softirq", "usage_steal",
                                  "usage_guest",   "usage_guest_nice"};
  std::string body;
  char buf[64];
  for (int s = first; s < first + steps; ++s) {
    const int64_t ts_ns = (kStartMs + int64_t(s) * 10'000) * 1'000'000;
    for (size_t h = 0; h < d.series_keys.size(); ++h) {
      body += d.series_keys[h];
      body += ' ';
      for (int f = 0; f < 10; ++f) {
        if (f > 0) body += ',';
        body += kFields[f];
        // Full-precision values, as TSBS writes them.
        std::snprintf(buf, sizeof(buf), "=%.11f", 50.0 + 0.37 * f + 0.013 * double(h) + 0.5 * s);
        body += buf;
      }
      std::snprintf(buf, sizeof(buf), " %lld\n", static_cast<long long>(ts_ns));
      body += buf;
    }
  }
  return body;
}

void BM_LineProtocol_Parse(benchmark::State& state) {
  const LpData d = MakeLpHosts(static_cast<int>(state.range(0)));
  const std::string body = LpBody(d, 0, 10);
  size_t samples = 0;
  for (auto _ : state) {
    LineProtocolParser p(body);
    size_t n = 0;
    while (true) {
      const auto ev = p.Next();
      if (ev == LineProtocolParser::Event::kEnd) break;
      if (ev == LineProtocolParser::Event::kError) {
        state.SkipWithError(p.error().ToString().c_str());
        return;
      }
      n += p.line().fields.size();
    }
    benchmark::DoNotOptimize(n);
    samples += n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(body.size()) * state.iterations());
}
BENCHMARK(BM_LineProtocol_Parse)->Arg(100)->Arg(1000)->Unit(benchmark::kMillisecond);

[[gnu::noinline]] IngestOutcome SteadyIngestLp(storage::Db& db, std::string_view body,
                                              Precision precision, const IngestOptions& opts) {
  return IngestLineProtocol(db, body, precision, opts);
}

[[gnu::noinline]] IngestOutcome SteadyIngestRw(storage::Db& db, std::string_view body,
                                              RemoteWriteVersion v, const IngestOptions& opts) {
  return IngestRemoteWrite(db, body, v, opts);
}

void PrintSteady(size_t bodies, size_t samples) {
  std::fprintf(stderr, "steady: %zu bodies, %zu samples\n", bodies, samples);
}

struct BenchDb {
  std::unique_ptr<MemFileSystem> fs = NewMemFileSystem();
  ManualClock clock{kStartMs};
  std::unique_ptr<storage::Db> db;
  BenchDb() {
    SetMinLogLevel(LogLevel::kWarn);
    storage::DbOptions o;
    o.fs = fs.get();
    o.clock = &clock;
    o.wal_sync = storage::WalSyncPolicy::kNever;
    db = std::move(storage::Db::Open(o, "/data").value());
  }
};

// Parse + append + commit. Each iteration writes the next 10 timestamps of every host, so the
// head sees in-order samples of the same series (the steady state of a writer); building the body
// is not timed.
void BM_LineProtocol_Ingest(benchmark::State& state) {
  const LpData d = MakeLpHosts(static_cast<int>(state.range(0)));
  BenchDb b;
  SeriesRefCache cache;
  IngestOptions opts;
  opts.clock = &b.clock;
  if (state.range(1) != 0) opts.series_cache = &cache;
  // Warm-up (not timed): the series exist, as in a writer's steady state.
  int step = 10;
  if (!IngestLineProtocol(*b.db, LpBody(d, 0, 10), Precision::kNanoseconds, opts).ok()) {
    state.SkipWithError("warm-up failed");
    return;
  }
  size_t samples = 0, bytes = 0, bodies = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string body = LpBody(d, step, 10);
    step += 10;
    state.ResumeTiming();
    const IngestOutcome out = SteadyIngestLp(*b.db, body, Precision::kNanoseconds, opts);
    if (!out.ok()) {
      state.SkipWithError(out.message.c_str());
      return;
    }
    samples += out.samples_written;
    bytes += body.size();
    ++bodies;
  }
  PrintSteady(bodies, samples);
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetLabel(state.range(1) != 0 ? "series cache" : "no cache");
}
BENCHMARK(BM_LineProtocol_Ingest)
    ->Args({100, 0})
    ->Args({100, 1})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->Unit(benchmark::kMillisecond);

// ---- line protocol: telemetry lines (one field `value`, Prometheus-style names), as bench/macro
// sends them: "metric,label=value,... value=<v> <ms>", labels sorted, 10 timestamps of every
// series per request (a series' lines one after another, or time-major), precision=ms.

struct LpTelemetry {
  std::vector<std::string> prefixes;  // "metric,k=v,... value="
  std::vector<std::vector<double>> values;
};

void AppendLpEscaped(std::string* s, std::string_view v, std::string_view specials) {
  for (char c : v) {
    if (specials.find(c) != std::string_view::npos) s->push_back('\\');
    s->push_back(c);
  }
}

LpTelemetry MakeLpTelemetry(size_t max_series) {
  bench::TelemetryOptions o;
  o.targets = static_cast<int>(max_series / 104 + 1);
  o.duration_ms = 200 * 15'000;
  const bench::Dataset ds = bench::Telemetry(o);
  LpTelemetry t;
  for (const bench::Series& s : ds.series) {
    if (t.prefixes.size() == max_series) break;
    const storage::Labels ls = storage::ParseLabels(s.name).value();
    std::string prefix;
    AppendLpEscaped(&prefix, ls.Get(storage::kMetricNameLabel), ", ");
    for (const storage::Label& l : ls) {
      if (l.name == storage::kMetricNameLabel) continue;
      prefix += ',';
      AppendLpEscaped(&prefix, l.name, ",= ");
      prefix += '=';
      AppendLpEscaped(&prefix, l.value, ",= ");
    }
    prefix += " value=";
    t.prefixes.push_back(std::move(prefix));
    t.values.push_back(s.vs);
  }
  return t;
}

// Series-major (bench/macro: a series' lines one after another) or time-major (every series at
// one time, then the next: what a Telegraf-style agent sends).
std::string LpTelemetryBody(const LpTelemetry& t, int first, int steps, bool time_major = false) {
  std::string body;
  char buf[32];
  auto line = [&](size_t i, int s) {
    const std::vector<double>& vs = t.values[i];
    body += t.prefixes[i];
    auto r = std::to_chars(buf, buf + sizeof(buf), vs[static_cast<size_t>(s) % vs.size()]);
    body.append(buf, r.ptr);
    body += ' ';
    r = std::to_chars(buf, buf + sizeof(buf), kStartMs + int64_t(s) * 15'000);
    body.append(buf, r.ptr);
    body += '\n';
  };
  if (time_major) {
    for (int s = first; s < first + steps; ++s) {
      for (size_t i = 0; i < t.prefixes.size(); ++i) line(i, s);
    }
  } else {
    for (size_t i = 0; i < t.prefixes.size(); ++i) {
      for (int s = first; s < first + steps; ++s) line(i, s);
    }
  }
  return body;
}

void BM_LineProtocol_ParseTelemetry(benchmark::State& state) {
  const LpTelemetry t = MakeLpTelemetry(static_cast<size_t>(state.range(0)));
  const std::string body = LpTelemetryBody(t, 0, 10);
  size_t samples = 0;
  for (auto _ : state) {
    LineProtocolParser p(body);
    size_t n = 0;
    while (p.Next() == LineProtocolParser::Event::kLine) n += p.line().fields.size();
    benchmark::DoNotOptimize(n);
    samples += n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(body.size()) * state.iterations());
}
BENCHMARK(BM_LineProtocol_ParseTelemetry)->Arg(1000)->Unit(benchmark::kMicrosecond);

// Parse + append + commit of telemetry lines, steady state (series known, in-order samples).
void BM_LineProtocol_IngestTelemetry(benchmark::State& state) {
  const LpTelemetry t = MakeLpTelemetry(static_cast<size_t>(state.range(0)));
  BenchDb b;
  SeriesRefCache cache;
  IngestOptions opts;
  opts.clock = &b.clock;
  if (state.range(1) != 0) opts.series_cache = &cache;
  int step = 10;
  if (!IngestLineProtocol(*b.db, LpTelemetryBody(t, 0, 10), Precision::kMilliseconds, opts).ok()) {
    state.SkipWithError("warm-up failed");
    return;
  }
  size_t samples = 0, bodies = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string body = LpTelemetryBody(t, step, 10, state.range(2) != 0);
    step += 10;
    state.ResumeTiming();
    const IngestOutcome out = SteadyIngestLp(*b.db, body, Precision::kMilliseconds, opts);
    if (!out.ok()) {
      state.SkipWithError(out.message.c_str());
      return;
    }
    samples += out.samples_written;
    ++bodies;
  }
  PrintSteady(bodies, samples);
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetLabel(std::to_string(t.prefixes.size()) + " series x 10" +
                 (state.range(1) != 0 ? ", series cache" : ", no cache") +
                 (state.range(2) != 0 ? ", time-major" : ", series-major"));
}
BENCHMARK(BM_LineProtocol_IngestTelemetry)
    ->Args({1000, 0, 0})
    ->Args({1000, 1, 0})
    ->Args({1000, 1, 1})
    ->Unit(benchmark::kMillisecond);

// ---- remote write: a Prometheus-style request, `series` series x 1 sample ----------------------

std::vector<storage::Labels> TelemetryLabels(size_t max_series) {
  bench::TelemetryOptions o;
  o.targets = static_cast<int>(max_series / 100 + 1);
  o.duration_ms = 15'000;
  const bench::Dataset ds = bench::Telemetry(o);
  std::vector<storage::Labels> out;
  for (const bench::Series& s : ds.series) {
    if (out.size() == max_series) break;
    out.push_back(storage::ParseLabels(s.name).value());
  }
  return out;
}

std::string RwBody(const std::vector<storage::Labels>& labels, RemoteWriteVersion v, int step,
                   int samples_per_series, bool compress) {
  RemoteWriteEncoder e(v);
  std::vector<RemoteWriteSample> xs(samples_per_series);
  for (size_t i = 0; i < labels.size(); ++i) {
    for (int k = 0; k < samples_per_series; ++k) {
      const int s = step + k;
      xs[k] = {kStartMs + int64_t(s) * 15'000, double(i) * 10 + 0.25 * s};
    }
    e.AddSeries(labels[i], xs);
  }
  return compress ? e.Snappy() : e.Proto();
}

class CountHandler final : public RemoteWriteHandler {
 public:
  void OnSeries(const DecodedSeries& s) override {
    samples += s.samples.size();
    label_bytes += s.labels.size();
  }
  size_t samples = 0, label_bytes = 0;
};

// Snappy + protobuf decode of a 2000-series request (Prometheus' max_samples_per_send), views only.
void BM_RemoteWrite_Decode(benchmark::State& state) {
  const auto v = static_cast<RemoteWriteVersion>(state.range(0));
  const int per_series = static_cast<int>(state.range(1));
  const auto labels = TelemetryLabels(2000 / per_series);
  const std::string body = RwBody(labels, v, 0, per_series, true);
  RemoteWriteScratch scratch;
  size_t samples = 0;
  for (auto _ : state) {
    Status st = SnappyDecode(body, 64u << 20, &scratch.decoded);
    CountHandler h;
    if (st.ok()) st = DecodeRemoteWrite(scratch.decoded, v, h, &scratch);
    if (!st.ok()) {
      state.SkipWithError(st.ToString().c_str());
      return;
    }
    samples += h.samples;
  }
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetBytesProcessed(static_cast<int64_t>(body.size()) * state.iterations());
  state.SetLabel("v" + std::to_string(state.range(0)) + ", " + std::to_string(labels.size()) +
                 " series x " + std::to_string(per_series));
}
BENCHMARK(BM_RemoteWrite_Decode)
    ->Args({1, 1})
    ->Args({2, 1})
    ->Args({1, 10})
    ->Args({2, 10})
    ->Unit(benchmark::kMicrosecond);

// Snappy + decode + append + commit into a Db, steady state (known series, in-order samples).
void BM_RemoteWrite_Ingest(benchmark::State& state) {
  const auto v = static_cast<RemoteWriteVersion>(state.range(0));
  const int per_series = static_cast<int>(state.range(1));
  const auto labels =
      TelemetryLabels(state.range(3) != 0 ? static_cast<size_t>(state.range(3)) : 2000 / per_series);
  BenchDb b;
  SeriesRefCache cache;
  IngestOptions opts;
  if (state.range(2) != 0) opts.series_cache = &cache;
  int step = per_series;
  if (!IngestRemoteWrite(*b.db, RwBody(labels, v, 0, per_series, true), v, opts).ok()) {
    state.SkipWithError("warm-up failed");
    return;
  }
  size_t samples = 0, bodies = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const std::string body = RwBody(labels, v, step, per_series, true);
    step += per_series;
    state.ResumeTiming();
    const IngestOutcome out = SteadyIngestRw(*b.db, body, v, opts);
    if (!out.ok()) {
      state.SkipWithError(out.message.c_str());
      return;
    }
    samples += out.samples_written;
    ++bodies;
  }
  PrintSteady(bodies, samples);
  state.SetItemsProcessed(static_cast<int64_t>(samples));
  state.SetLabel("v" + std::to_string(state.range(0)) + ", " + std::to_string(labels.size()) +
                 " series x " + std::to_string(per_series) +
                 (state.range(2) != 0 ? ", series cache" : ", no cache"));
}
BENCHMARK(BM_RemoteWrite_Ingest)
    ->Args({1, 1, 0, 0})
    ->Args({1, 1, 1, 0})
    ->Args({2, 1, 0, 0})
    ->Args({2, 1, 1, 0})
    ->Args({1, 10, 0, 0})
    ->Args({1, 10, 1, 0})
    ->Args({1, 10, 1, 1000})  // the shape of BM_LineProtocol_IngestTelemetry/1000/1/0
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace vigil::server::ingest

BENCHMARK_MAIN();
