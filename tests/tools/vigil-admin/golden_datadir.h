#pragma once

// The golden data directory (tests/golden/datadir/README.md): what it holds, as a model, and the
// generator that writes it. The committed copy under tests/golden/datadir/v1/ was written by
//
//   build/tests/tools_test "[generate-golden]"
//
// and must never be regenerated for the same format version: it stands for directories written
// by earlier builds. Tests compare what they read from it with Model().

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/file_system.h"
#include "storage/block/block_id.h"
#include "storage/block/block_reader.h"
#include "storage/block/tombstones.h"
#include "storage/matcher.h"
#include "storage/labels.h"
#include "tests/tools/vigil-admin/admin_test_util.h"

namespace vigil::admin::golden {

// 2026-01-01T00:00:00Z, aligned to the 2 h block range.
inline constexpr int64_t kT0 = 1'767'225'600'000;
inline constexpr int64_t kHour = 3'600'000;
inline constexpr int64_t kStep = 15'000;

struct Series {
  storage::Labels labels;
  std::vector<testing::Sample> samples;
};

struct BlockModel {
  std::string id;
  int64_t min_time, max_time;  // [min_time, max_time)
  std::vector<Series> series;
  // Deleted ranges (inclusive) per series, written to the block's tombstones after publishing.
  std::vector<std::pair<storage::Labels, storage::Interval>> deleted;
};

struct Model {
  std::vector<BlockModel> blocks;
  // Appended through a Db (WAL only), one commit per element.
  std::vector<Series> wal_batches;
};

inline std::vector<testing::Sample> Samples(int64_t start, size_t n, double (*value)(size_t)) {
  std::vector<testing::Sample> out;
  for (size_t i = 0; i < n; ++i) out.push_back({start + static_cast<int64_t>(i) * kStep, value(i)});
  return out;
}

inline Model GoldenModel() {
  using testing::L;
  const auto requests = L({{"__name__", "http_requests_total"}, {"job", "api"}, {"instance", "a:9100"}});
  const auto temperature = L({{"__name__", "temperature_celsius"}, {"room", "läb-1"}});
  const auto up_a = L({{"__name__", "up"}, {"job", "api"}, {"instance", "a:9100"}});
  const auto up_b = L({{"__name__", "up"}, {"job", "web"}, {"instance", "b:9100"}});
  const auto cpu = L({{"__name__", "process_cpu_seconds_total"}, {"job", "api"}});
  const auto errors = L({{"__name__", "errors_total"}, {"job", "api"}, {"reason", "time out"}});

  auto counter = [](size_t i) { return static_cast<double>(i * 3 + i % 5); };
  auto counter2 = [](size_t i) { return static_cast<double>(2000 + i * 3 + i % 5); };
  auto counter3 = [](size_t i) { return static_cast<double>(4000 + i * 3); };
  auto decimal = [](size_t i) { return static_cast<double>(215 + i % 7) / 10.0; };
  auto one = [](size_t) { return 1.0; };
  auto floats = [](size_t i) { return 0.123456789 * static_cast<double>(i * i % 97) + 1e-9 * static_cast<double>(i); };
  auto errs = [](size_t i) { return static_cast<double>(i / 10); };

  Model m;
  BlockModel b1{storage::MakeBlockId(kT0 + 2 * kHour + 60'000, {1, 2, 3, 4, 5, 6, 7, 8, 9, 1}), kT0, kT0 + 2 * kHour, {}, {}};
  b1.series = {{requests, Samples(kT0, 480, counter)},
               {temperature, Samples(kT0, 480, decimal)},
               {up_a, Samples(kT0, 480, one)},
               {up_b, Samples(kT0, 200, one)},
               {cpu, Samples(kT0, 480, floats)}};
  // up{job="web"} disappears: a stale marker after its last sample.
  b1.series[3].samples.push_back({kT0 + 200 * kStep, testing::StaleNaN()});
  BlockModel b2{storage::MakeBlockId(kT0 + 4 * kHour + 60'000, {1, 2, 3, 4, 5, 6, 7, 8, 9, 2}), kT0 + 2 * kHour,
                kT0 + 4 * kHour, {}, {}};
  b2.series = {{requests, Samples(kT0 + 2 * kHour, 480, counter2)},
               {temperature, Samples(kT0 + 2 * kHour, 480, decimal)},
               {up_a, Samples(kT0 + 2 * kHour, 480, one)}};
  b2.deleted = {{requests, {kT0 + 2 * kHour + 30 * 60'000, kT0 + 2 * kHour + 40 * 60'000}}};
  m.blocks = {b1, b2};
  // The head: 10 minutes after the blocks, in four commits.
  for (int batch = 0; batch < 4; ++batch) {
    const int64_t start = kT0 + 4 * kHour + batch * 10 * kStep;
    auto shifted = [&](double (*f)(size_t)) {
      auto s = Samples(start, 10, f);
      for (size_t i = 0; i < s.size(); ++i) s[i].v = f(static_cast<size_t>(batch) * 10 + i);
      return s;
    };
    m.wal_batches.push_back({requests, shifted(counter3)});
    m.wal_batches.push_back({up_a, shifted(one)});
    m.wal_batches.push_back({errors, shifted(errs)});
  }
  return m;
}

// Writes the golden directory into `dir` (which must not exist): the WAL through a Db (then its
// LOCK file is removed), then the blocks with BlockWriter and their tombstones.
inline void WriteGolden(FileSystem* fs, const std::string& dir) {
  REQUIRE(!fs->FileExists(dir));
  REQUIRE(fs->CreateDirs(dir).ok());
  const Model m = GoldenModel();
  std::vector<std::pair<storage::Labels, std::vector<testing::Sample>>> wal;
  for (const Series& s : m.wal_batches) wal.emplace_back(s.labels, s.samples);
  testing::WriteWal(fs, dir, wal);
  REQUIRE(fs->RemoveFile(JoinPath(dir, "LOCK")).ok());
  for (const BlockModel& b : m.blocks) {
    std::vector<std::pair<storage::Labels, std::vector<testing::Sample>>> series;
    for (const Series& s : b.series) series.emplace_back(s.labels, s.samples);
    testing::WriteBlock(fs, dir, b.id, series, b.min_time, b.max_time);
    if (b.deleted.empty()) continue;
    auto reader = storage::BlockReader::Open(fs, JoinPath(dir, b.id));
    REQUIRE(reader.ok());
    storage::TombstoneMap tombstones;
    for (const auto& [ls, iv] : b.deleted) {
      std::vector<storage::Matcher> ms;
      for (const storage::Label& l : ls) {
        ms.push_back(storage::Matcher::Make(storage::MatchType::kEqual, l.name, l.value).value());
      }
      auto ids = (*reader)->index().PostingsForMatchers(ms);
      REQUIRE(ids.ok());
      REQUIRE(ids->size() == 1);
      storage::AddInterval(&tombstones[ids->front()], iv);
    }
    REQUIRE(storage::WriteTombstones(fs, JoinPath(dir, b.id), tombstones).ok());
  }
}

}  // namespace vigil::admin::golden
