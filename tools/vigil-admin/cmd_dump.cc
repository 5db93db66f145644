// vigil-admin dump DIR [--match SELECTOR] [--min-time T] [--max-time T]
//   Prints the samples of the series that SELECTOR (a PromQL vector selector such as
//   `up{job=~"api|web"}`; default: every series) selects, from every block and from the head the
//   WAL replays to, as CSV:
//
//     labels,timestamp_ms,value
//     "up{instance=""a:9100"",job=""api""}",1700000000000,1
//
//   Series in label order, samples in time order; a timestamp held by several blocks (overlapping
//   or out-of-order data) is printed once, the newest source winning. The head is rebuilt from the
//   WAL as Db::Open does (samples in block ranges dropped, tombstones applied); block tombstones
//   apply to their block. Labels are PromQL notation
//   in an RFC 4180 quoted field; values in the shortest form that reads back to the same float64,
//   NaN (stale markers included), +Inf and -Inf spelled so. T is Unix milliseconds or RFC 3339
//   (2026-11-26T10:00:00Z); both bounds are inclusive. Read-only; takes no lock.
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstring>
#include <ctime>
#include <map>

#include "query/ast.h"
#include "query/parser.h"
#include "storage/block/block_querier.h"
#include "storage/block/block_reader.h"
#include "storage/db.h"
#include "storage/file_names.h"
#include "storage/head/head.h"
#include "tools/vigil-admin/command.h"
#include "tools/vigil-admin/data_dir.h"

namespace vigil::admin {
namespace {

using storage::Labels;
using storage::Matcher;

// Unix milliseconds, or RFC 3339 with a Z or numeric offset and optional fraction.
Result<int64_t> ParseTime(std::string_view s) {
  int64_t ms = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  if (ec == std::errc() && p == s.data() + s.size()) return ms;
  std::tm tm{};
  const std::string str(s);
  const char* rest = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (rest == nullptr) {
    return Status::InvalidArgument("time '" + str + "': want Unix milliseconds or RFC 3339 (2026-11-26T10:00:00Z)");
  }
  int64_t frac_ms = 0;
  if (*rest == '.') {
    int64_t scale = 100;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, scale /= 10) frac_ms += (*rest - '0') * scale;
  }
  int64_t offset_s = 0;
  if (*rest == 'Z') {
    ++rest;
  } else if ((*rest == '+' || *rest == '-') && std::strlen(rest) == 6 && rest[3] == ':') {
    const int sign = *rest == '-' ? -1 : 1;
    offset_s = sign * ((rest[1] - '0') * 36000 + (rest[2] - '0') * 3600 + (rest[4] - '0') * 600 + (rest[5] - '0') * 60);
    rest += 6;
  } else {
    return Status::InvalidArgument("time '" + str + "': RFC 3339 needs a zone (Z or +hh:mm)");
  }
  if (*rest != '\0') return Status::InvalidArgument("time '" + str + "': unexpected '" + rest + "'");
  return (static_cast<int64_t>(timegm(&tm)) - offset_s) * 1000 + frac_ms;
}

// The matchers of a PromQL vector selector (no offset, @ or range).
Result<std::vector<Matcher>> ParseSelector(std::string_view text) {
  VIGIL_ASSIGN_OR_RETURN(query::ExprPtr expr, query::ParseExpr(text));
  const auto* sel = expr->TryAs<query::VectorSelector>();
  if (sel == nullptr) {
    return Status::InvalidArgument("--match '" + std::string(text) + "': want a series selector such as up{job=\"api\"}");
  }
  if (sel->mods.offset_ms != 0 || sel->mods.offset_expr || sel->mods.at != query::AtKind::kNone) {
    return Status::InvalidArgument("--match '" + std::string(text) + "': offset and @ do not apply to dump");
  }
  std::vector<Matcher> out;
  for (const query::LabelMatcher& m : sel->matchers) {
    VIGIL_ASSIGN_OR_RETURN(Matcher sm, Matcher::Make(static_cast<storage::MatchType>(m.type), m.name, m.value));
    out.push_back(std::move(sm));
  }
  return out;
}

void AppendCsvQuoted(std::string_view s, std::string* out) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

void AppendValue(double v, std::string* out) {
  if (std::isnan(v)) {
    out->append("NaN");
  } else if (std::isinf(v)) {
    out->append(v > 0 ? "+Inf" : "-Inf");
  } else {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    out->append(buf, p);
  }
}

// One source's series set, advanced in step with the others (all are ordered by labels).
struct Source {
  std::unique_ptr<storage::Querier> querier;
  std::unique_ptr<storage::SeriesSet> set;
  bool valid = false;
};

int Usage(const AdminIo& io, const std::string& why) {
  if (!why.empty()) std::fprintf(io.err, "vigil-admin dump: %s\n", why.c_str());
  std::fprintf(io.err, "usage: vigil-admin dump DIR [--match SELECTOR] [--min-time T] [--max-time T]\n");
  return 2;
}

}  // namespace

int DumpCommand(const AdminIo& io, std::span<char* const> args) {
  std::string dir;
  std::vector<Matcher> matchers;
  int64_t min_t = INT64_MIN, max_t = INT64_MAX;
  bool have_match = false;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (a == "--match" || a == "--min-time" || a == "--max-time") {
      if (i + 1 >= args.size()) return Usage(io, std::string(a) + " needs a value");
      const std::string_view v = args[++i];
      if (a == "--match") {
        if (have_match) return Usage(io, "--match given twice");
        auto ms = ParseSelector(v);
        if (!ms.ok()) return Usage(io, ms.status().message());
        matchers = std::move(ms).value();
        have_match = true;
      } else {
        auto t = ParseTime(v);
        if (!t.ok()) return Usage(io, std::string(a) + ": " + t.status().message());
        (a == "--min-time" ? min_t : max_t) = *t;
      }
    } else if (a.starts_with("-") || !dir.empty()) {
      return Usage(io, "unexpected argument '" + std::string(a) + "'");
    } else {
      dir = a;
    }
  }
  if (dir.empty()) return Usage(io, "");
  if (min_t > max_t) return Usage(io, "--min-time is after --max-time");

  auto listing = ListDataDir(io.fs, dir);
  if (!listing.ok()) {
    std::fprintf(io.err, "vigil-admin dump: %s\n", listing.status().ToString().c_str());
    return 1;
  }
  // Declared before the sources: the head querier must not outlive the head.
  storage::HeadOptions head_options;
  head_options.out_of_order_window_ms = storage::DbOptions{}.out_of_order_window_ms;
  head_options.chunk_range_ms = storage::DbOptions{}.block_range_ms;
  storage::Head head(head_options);
  // Sources oldest first: blocks by id (= creation time), then the head.
  std::vector<Source> sources;
  int64_t blocks_end = INT64_MIN;
  for (const std::string& id : listing->blocks) {
    auto block = storage::BlockReader::Open(io.fs, JoinPath(dir, id));
    if (!block.ok()) {
      std::fprintf(io.err, "vigil-admin dump: block %s: %s\n", id.c_str(), block.status().ToString().c_str());
      return 1;
    }
    blocks_end = std::max(blocks_end, (*block)->meta().max_time);
    sources.push_back({storage::NewBlockQuerier(*block, min_t, max_t), nullptr});
  }
  if (listing->has_wal) {
    // As Db::Open: ranges that blocks hold are closed to the head, so WAL samples already flushed
    // into blocks (kept until the next checkpoint) are dropped instead of shadowing block deletes.
    if (blocks_end != INT64_MIN) head.SetMinValidTime(blocks_end);
    WalSummary wal;
    const Status st = ReadWal(io.fs, JoinPath(dir, storage::kWalDirName), &head, &wal);
    if (!st.ok()) {
      std::fprintf(io.err, "vigil-admin dump: %s\n", st.ToString().c_str());
      return 1;
    }
    sources.push_back({head.NewQuerier(min_t, max_t), nullptr});
  }
  for (Source& s : sources) {
    s.set = s.querier->Select(matchers);
    s.valid = s.set->Next();
  }

  std::string line = "labels,timestamp_ms,value\n";
  std::fputs(line.c_str(), io.out);
  std::vector<int64_t> ts(1024);
  std::vector<double> vs(1024);
  std::vector<std::pair<int64_t, double>> samples;
  uint64_t series = 0, total = 0;
  for (;;) {
    const Labels* cur = nullptr;
    for (const Source& s : sources) {
      if (s.valid && (cur == nullptr || s.set->labels() < *cur)) cur = &s.set->labels();
    }
    if (cur == nullptr) break;
    const Labels labels = *cur;
    // Newest source first, so that a stable sort keeps its sample at a duplicated timestamp.
    samples.clear();
    for (size_t k = sources.size(); k-- > 0;) {
      Source& s = sources[k];
      if (!s.valid || s.set->labels() != labels) continue;
      auto it = s.set->Samples();
      while (size_t n = it->Next(ts, vs)) {
        for (size_t i = 0; i < n; ++i) samples.emplace_back(ts[i], vs[i]);
      }
      if (!it->status().ok()) {
        std::fprintf(io.err, "vigil-admin dump: series %s: %s\n", labels.ToString().c_str(),
                     it->status().ToString().c_str());
        return 1;
      }
      s.valid = s.set->Next();
    }
    std::stable_sort(samples.begin(), samples.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string quoted;
    AppendCsvQuoted(labels.ToString(), &quoted);
    for (size_t i = 0; i < samples.size(); ++i) {
      if (i > 0 && samples[i].first == samples[i - 1].first) continue;
      line = quoted;
      line.push_back(',');
      line.append(std::to_string(samples[i].first));
      line.push_back(',');
      AppendValue(samples[i].second, &line);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), io.out);
      ++total;
    }
    ++series;
  }
  for (const Source& s : sources) {
    if (!s.set->status().ok()) {
      std::fprintf(io.err, "vigil-admin dump: %s\n", s.set->status().ToString().c_str());
      return 1;
    }
  }
  std::fprintf(io.err, "vigil-admin dump: %" PRIu64 " series, %" PRIu64 " samples\n", series, total);
  return 0;
}

namespace {
int Dump(int argc, char** argv) {
  return DumpCommand(AdminIo{DefaultFileSystem(), stdout, stderr}, {argv, static_cast<size_t>(argc)});
}
const CommandRegistration kDump{
    "dump",
    "dump DIR [--match SELECTOR] [--min-time T] [--max-time T]\n"
    "                  samples of matching series as CSV labels,timestamp_ms,value",
    &Dump};
}  // namespace

}  // namespace vigil::admin
