// main() of compression_bench: runs the benchmarks as BENCHMARK_MAIN would, then prints a summary
// (adaptive vs XOR per dataset, the issue targets, block codecs) naming the machine it ran on.
// With --benchmark_repetitions=N the summary uses the medians; otherwise the single run.
// Exits non-zero if any benchmark reported an error (e.g. a missing dataset).

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/compression/chunk_corpus.h"

namespace vigil::bench {
namespace {

struct Result {
  bool error = false;
  std::string message;
  std::map<std::string, double> counters;
  std::string label;
};

// The console output, plus a copy of each benchmark's median (or only) run.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  explicit SummaryReporter(OutputOptions options) : ConsoleReporter(options) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
      const bool median = run.run_type == Run::RT_Aggregate && run.aggregate_name == "median";
      if (!run.error_occurred && !single && !median) continue;
      Result& r = results_[run.run_name.function_name];
      r.error = run.error_occurred;
      r.message = run.error_message;
      r.label = run.report_label;
      for (const auto& [name, counter] : run.counters) r.counters[name] = counter.value;
      repetitions_ = std::max<int64_t>(repetitions_, run.repetitions);
    }
  }

  const Result* Find(const std::string& name) const {
    auto it = results_.find(name);
    return it == results_.end() ? nullptr : &it->second;
  }
  int64_t repetitions() const { return repetitions_; }
  size_t errors() const {
    size_t n = 0;
    for (const auto& [name, r] : results_) n += r.error;
    return n;
  }

 private:
  std::map<std::string, Result> results_;
  int64_t repetitions_ = 1;
};

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown CPU";
}

double Counter(const Result* r, const char* name) {
  if (r == nullptr || r->error) return -1;
  auto it = r->counters.find(name);
  return it == r->counters.end() ? -1 : it->second;
}

// printf of one number, or "n/a" for a negative (missing) value.
std::string Fmt(const char* fmt, double v) {
  if (v < 0) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

const char* Verdict(bool known, bool met) { return !known ? "UNKNOWN" : met ? "met" : "NOT MET"; }

void PrintSummary(const SummaryReporter& rep) {
  std::printf("\n== Vigil compression summary ==\n");
  std::printf("machine: %s, %u logical CPUs (shared host: figures are indicative)\n",
              CpuModel().c_str(), std::thread::hardware_concurrency());
  std::printf("statistic: %s, CPU time, single thread, chunks of %zu samples, decode spans of %zu\n\n",
              rep.repetitions() > 1
                  ? ("median of " + std::to_string(rep.repetitions()) + " repetitions").c_str()
                  : "single run",
              kChunkSamples, kDecodeSpan);

  std::printf("%-12s | %12s | %17s | %6s | %13s | %18s | %7s | %10s | %15s\n", "dataset",
              "xor B/sample", "adaptive B/sample", "ratio", "xor decode ns", "adaptive decode ns",
              "speedup", "xor enc ns", "adaptive enc ns");
  std::printf("%s\n", std::string(140, '-').c_str());
  struct Row {
    double ratio = -1, speedup = -1;
  };
  std::map<std::string, Row> rows;
  for (const char* ds : kDatasetNames) {
    const std::string d = ds;
    const Result* xe = rep.Find("chunk_encode/xor/" + d);
    const Result* ae = rep.Find("chunk_encode/adaptive/" + d);
    const Result* xd = rep.Find("chunk_decode/xor/" + d);
    const Result* ad = rep.Find("chunk_decode/adaptive/" + d);
    for (const Result* r : {xe, ae, xd, ad}) {
      if (r != nullptr && r->error) {
        std::printf("%-12s | ERROR: %s\n", ds, r->message.c_str());
        goto next_dataset;
      }
    }
    if (xd == nullptr || ad == nullptr) {
      std::printf("%-12s | not run (filtered out)\n", ds);
      continue;
    }
    {
      const double xb = Counter(xd, "bytes_per_sample"), ab = Counter(ad, "bytes_per_sample");
      const double xdn = Counter(xd, "time_per_sample") * 1e9;
      const double adn = Counter(ad, "time_per_sample") * 1e9;
      const double xen = Counter(xe, "time_per_sample") * 1e9;
      const double aen = Counter(ae, "time_per_sample") * 1e9;
      Row& row = rows[d];
      row.ratio = ab / xb;
      row.speedup = xdn / adn;
      std::printf("%-12s | %12.3f | %17.3f | %6.3f | %13.2f | %18.2f | %6.2fx | %10.2f | %15.2f\n",
                  ds, xb, ab, row.ratio, xdn, adn, row.speedup, xen, aen);
      if (!ad->label.empty()) std::printf("%-12s   adaptive mix: %s\n", "", ad->label.c_str());
    }
  next_dataset:;
  }

  std::string sizes;
  for (const char* ds : kDatasetNames) {
    if (rows.count(ds) == 0) continue;  // not run: don't load it just for this line
    const Corpus& c = GetCorpus(ds);
    sizes += "\n  " + std::string(ds) + ": " + std::to_string(c.data.series.size()) + " series, " +
             std::to_string(c.samples) + " samples, " + std::to_string(c.chunks.size()) + " chunks";
  }
  if (!sizes.empty()) std::printf("\ndatasets:%s\n", sizes.c_str());

  auto row = [&](const char* d) { return rows.count(d) ? rows[d] : Row{}; };
  const Row rs = row("real-scrape"), tc = row("tsbs-cpu");
  std::printf("\ntargets:\n");
  std::printf("  real-scrape adaptive/xor bytes <= 0.50  : %6s  %s\n",
              Fmt("%.3f", rs.ratio).c_str(), Verdict(rs.ratio >= 0, rs.ratio <= 0.5));
  std::printf("  tsbs-cpu    adaptive/xor bytes <= 1.00  : %6s  %s\n",
              Fmt("%.3f", tc.ratio).c_str(), Verdict(tc.ratio >= 0, tc.ratio <= 1.0));
  std::printf("  real-scrape adaptive decode >= 2x xor   : %6s  %s\n",
              Fmt("%.2fx", rs.speedup).c_str(), Verdict(rs.speedup >= 0, rs.speedup >= 2.0));

  std::printf("\n%-22s | %-7s | %5s | %9s | %15s | %17s\n", "block input", "codec", "ratio",
              "B/sample", "compress MB/s", "decompress MB/s");
  std::printf("%s\n", std::string(88, '-').c_str());
  for (const char* input : {"real-scrape-xor", "real-scrape-adaptive"}) {
    for (const char* codec : {"lz4", "lz4hc-9", "zstd-1", "zstd-3", "zstd-9"}) {
      const std::string suffix = std::string(codec) + "/" + input;
      const Result* c = rep.Find("block_compress/" + suffix);
      const Result* d = rep.Find("block_decompress/" + suffix);
      if (c == nullptr && d == nullptr) continue;
      const Result* failed = c != nullptr && c->error ? c : d != nullptr && d->error ? d : nullptr;
      if (failed != nullptr) {
        std::printf("%-22s | %-7s | ERROR: %s\n", input, codec, failed->message.c_str());
        continue;
      }
      const Result* any = c != nullptr ? c : d;
      std::printf("%-22s | %-7s | %5.2f | %9.3f | %15s | %17s\n", input, codec,
                  Counter(any, "ratio"), Counter(any, "bytes_per_sample"),
                  Fmt("%.0f", Counter(c, "bytes_per_second") / 1e6).c_str(),
                  Fmt("%.0f", Counter(d, "bytes_per_second") / 1e6).c_str());
    }
  }
  if (rep.errors() > 0) {
    std::printf("\n%zu benchmark(s) reported an ERROR; see above.\n", rep.errors());
  }
}

}  // namespace
}  // namespace vigil::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  vigil::bench::RegisterChunkBenchmarks();
  vigil::bench::RegisterBlockBenchmarks();
  vigil::bench::RegisterBitstreamBenchmarks();
  // The display reporter is ours, so --benchmark_color is not applied by the library: colour only
  // on a terminal.
  vigil::bench::SummaryReporter reporter(isatty(STDOUT_FILENO)
                                             ? benchmark::ConsoleReporter::OO_Defaults
                                             : benchmark::ConsoleReporter::OO_Tabular);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  vigil::bench::PrintSummary(reporter);
  return reporter.errors() > 0 ? 1 : 0;
}
