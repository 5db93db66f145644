#pragma once

// Metric metadata (type, help, unit) per metric family, as remote write carries it: 1.0 in
// WriteRequest.metadata (MetricMetadata with the family name), 2.0 in every series (Metadata with
// help and unit as symbol references; the family is derived from the series' metric name, see
// MetricFamilyOf). The latest metadata of each family is kept in a MetadataStore, which
// /api/v1/metadata reads and a MetadataPersister keeps in <data>/metadata
// (server/docs/format/metadata.md). Line protocol and the native protocol carry no metadata.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "storage/base/status.h"

namespace vigil {
class FileSystem;
}  // namespace vigil

namespace vigil::server::ingest {

// The numbers are those of prometheus.MetricMetadata.MetricType and io.prometheus.write.v2.
// Metadata.MetricType (both protocols agree); they are also what the metadata file stores.
enum class MetricType : uint8_t {
  kUnknown = 0,  // "unknown" (1.0 UNKNOWN, 2.0 METRIC_TYPE_UNSPECIFIED)
  kCounter = 1,
  kGauge = 2,
  kHistogram = 3,
  kGaugeHistogram = 4,
  kSummary = 5,
  kInfo = 6,
  kStateset = 7,
};
// The Prometheus API's spelling: "counter", "gauge", "histogram", "gaugehistogram", "summary",
// "info", "stateset", "unknown".
std::string_view MetricTypeName(MetricType t);
// A wire value; numbers outside the enum (newer senders) become kUnknown.
MetricType MetricTypeFromWire(uint64_t v);

// Remote write 2.0 attaches metadata to series, so the family is derived from the metric name as
// the text exposition formats name a family's series: for histograms and gauge histograms the
// suffixes _bucket, _sum, _count and _created are removed, for summaries _sum, _count and
// _created; other types keep the name (a counter "x_total" is the family "x_total", as the classic
// text format and remote write 1.0 name it).
std::string_view MetricFamilyOf(std::string_view metric_name, MetricType type);

struct MetricMetadata {
  MetricType type = MetricType::kUnknown;
  std::string help;
  std::string unit;
  friend bool operator==(const MetricMetadata&, const MetricMetadata&) = default;
};

// One entry as a request carries it. Views into the request; valid during Update().
struct MetadataUpdate {
  std::string_view family;
  MetricType type = MetricType::kUnknown;
  std::string_view help;
  std::string_view unit;
};

// Thread safety: all methods may be called concurrently (one mutex; Update() takes it once per
// request, readers copy what they need out).
class MetadataStore {
 public:
  // Bounds of what is kept. Entries beyond them are dropped (counted), never truncated.
  static constexpr size_t kMaxFamilyBytes = 1024;
  static constexpr size_t kMaxHelpBytes = 16 * 1024;
  static constexpr size_t kMaxUnitBytes = 256;

  // max_families > 0: a new family beyond it is dropped; known families are still updated.
  // max_bytes: the names, help and unit texts together; an entry that would pass it is dropped.
  explicit MetadataStore(size_t max_families = 100'000, size_t max_bytes = 64u << 20)
      : max_families_(max_families), max_bytes_(max_bytes) {}
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  // Sets each family's metadata (later entries of `updates` win). An entry with an empty family,
  // a family, help or unit over the bounds above or not valid UTF-8, or with type unknown and no
  // help and no unit (2.0's "no metadata"), is skipped: invalid ones are counted in dropped().
  // Returns how many families changed.
  size_t Update(std::span<const MetadataUpdate> updates);

  // Replaces everything (loading the file). Entries over the bounds are dropped (the last
  // names first when there are too many or too large).
  void Reset(std::map<std::string, MetricMetadata, std::less<>> families);

  // Families sorted by name; `metric` non-empty: that family only. limit > 0: at most that many.
  std::vector<std::pair<std::string, MetricMetadata>> List(std::string_view metric = {},
                                                           size_t limit = 0) const;
  std::map<std::string, MetricMetadata, std::less<>> Snapshot() const;

  size_t size() const;
  // Advances at every change; a persister saves when it moved.
  uint64_t version() const { return version_.load(std::memory_order_acquire); }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }

 private:
  const size_t max_families_;
  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::map<std::string, MetricMetadata, std::less<>> families_;  // guarded by mu_
  size_t bytes_ = 0;  // guarded by mu_: sizes of the names, help and unit texts in families_
  std::atomic<uint64_t> version_{0};
  std::atomic<uint64_t> dropped_{0};
};

// ---- The metadata file (server/docs/format/metadata.md) ----------------------------------------

inline constexpr char kMetadataFileMagic[4] = {'V', 'G', 'M', 'D'};
inline constexpr uint16_t kMetadataFileVersion = 1;

// The file's bytes for these families (sorted by name, as the map holds them).
std::string EncodeMetadataFile(const std::map<std::string, MetricMetadata, std::less<>>& families);
// Corruption (naming `what` and the byte offset) for a bad magic, checksum, truncation or
// trailing bytes; NotSupported for another version.
Result<std::map<std::string, MetricMetadata, std::less<>>> DecodeMetadataFile(
    std::string_view bytes, std::string_view what);

// Keeps a MetadataStore in a file: Load() at start, then a background thread that saves (tmp +
// fsync + rename + fsync of the directory) whenever the store changed, at most once per
// `debounce_ms`; Stop() saves a last time. A failed save is logged and retried at the next tick.
// Thread safety: Start/Stop/Load/Save from the controlling thread.
class MetadataPersister {
 public:
  // Not owned: fs and store must outlive the persister.
  MetadataPersister(FileSystem* fs, std::string path, MetadataStore* store, int64_t debounce_ms);
  ~MetadataPersister();
  MetadataPersister(const MetadataPersister&) = delete;
  MetadataPersister& operator=(const MetadataPersister&) = delete;

  // Reads the file into the store. A missing file is an empty store (OK). A damaged or unknown
  // file is returned as the error, the store left empty, and the file will be replaced by the
  // next save (metadata is resent by every writer, so nothing lasting is lost).
  Status Load();
  // Writes the store now if it changed since the last save (or the last Load()).
  Status SaveIfChanged();
  void Start();
  // Stops the thread and saves if anything changed. Idempotent.
  Status Stop();

  uint64_t saves() const { return saves_.load(std::memory_order_relaxed); }
  uint64_t save_failures() const { return save_failures_.load(std::memory_order_relaxed); }

 private:
  void Loop();

  FileSystem* const fs_;
  const std::string path_;
  MetadataStore* const store_;
  const int64_t debounce_ms_;
  uint64_t saved_version_ = 0;  // touched by the thread, or by the caller when it is not running
  std::mutex save_mu_;          // one save at a time
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
  std::atomic<uint64_t> saves_{0};
  std::atomic<uint64_t> save_failures_{0};
};

}  // namespace vigil::server::ingest
