#include "server/ingest/metadata.h"

#include <chrono>
#include <cstring>

#include "storage/base/file_system.h"
#include "storage/base/logging.h"
#include "storage/base/utf8.h"
#include "storage/block/coding.h"

namespace vigil::server::ingest {

namespace coding = storage::block;

std::string_view MetricTypeName(MetricType t) {
  switch (t) {
    case MetricType::kUnknown:
      return "unknown";
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
    case MetricType::kGaugeHistogram:
      return "gaugehistogram";
    case MetricType::kSummary:
      return "summary";
    case MetricType::kInfo:
      return "info";
    case MetricType::kStateset:
      return "stateset";
  }
  return "unknown";
}

MetricType MetricTypeFromWire(uint64_t v) {
  return v <= static_cast<uint64_t>(MetricType::kStateset) ? static_cast<MetricType>(v)
                                                           : MetricType::kUnknown;
}

std::string_view MetricFamilyOf(std::string_view name, MetricType type) {
  auto strip = [&](std::initializer_list<std::string_view> suffixes) {
    for (std::string_view s : suffixes) {
      if (name.size() > s.size() && name.ends_with(s))
        return name.substr(0, name.size() - s.size());
    }
    return name;
  };
  switch (type) {
    case MetricType::kHistogram:
    case MetricType::kGaugeHistogram:
      return strip({"_bucket", "_sum", "_count", "_created"});
    case MetricType::kSummary:
      return strip({"_sum", "_count", "_created"});
    default:
      return name;
  }
}

namespace {

bool Acceptable(std::string_view family, std::string_view help, std::string_view unit) {
  return !family.empty() && family.size() <= MetadataStore::kMaxFamilyBytes &&
         help.size() <= MetadataStore::kMaxHelpBytes &&
         unit.size() <= MetadataStore::kMaxUnitBytes && IsValidUtf8(family) && IsValidUtf8(help) &&
         IsValidUtf8(unit);
}

}  // namespace

size_t MetadataStore::Update(std::span<const MetadataUpdate> updates) {
  size_t changed = 0;
  uint64_t dropped = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const MetadataUpdate& u : updates) {
      if (u.type == MetricType::kUnknown && u.help.empty() && u.unit.empty()) continue;
      if (!Acceptable(u.family, u.help, u.unit)) {
        ++dropped;
        continue;
      }
      auto it = families_.find(u.family);
      if (it == families_.end()) {
        const size_t need = u.family.size() + u.help.size() + u.unit.size();
        if (families_.size() >= max_families_ || bytes_ + need > max_bytes_) {
          ++dropped;
          continue;
        }
        families_.emplace(std::string(u.family),
                          MetricMetadata{u.type, std::string(u.help), std::string(u.unit)});
        bytes_ += need;
        ++changed;
        continue;
      }
      MetricMetadata& m = it->second;
      if (m.type == u.type && m.help == u.help && m.unit == u.unit) continue;
      const size_t old_texts = m.help.size() + m.unit.size();
      const size_t new_texts = u.help.size() + u.unit.size();
      if (new_texts > old_texts && bytes_ + (new_texts - old_texts) > max_bytes_) {
        ++dropped;
        continue;
      }
      bytes_ = bytes_ - old_texts + new_texts;
      m.type = u.type;
      m.help.assign(u.help);
      m.unit.assign(u.unit);
      ++changed;
    }
    if (changed > 0) version_.fetch_add(1, std::memory_order_acq_rel);
  }
  if (dropped > 0) dropped_.fetch_add(dropped, std::memory_order_relaxed);
  return changed;
}

void MetadataStore::Reset(std::map<std::string, MetricMetadata, std::less<>> families) {
  size_t bytes = 0, kept = 0;
  for (auto it = families.begin(); it != families.end();) {
    const size_t need = it->first.size() + it->second.help.size() + it->second.unit.size();
    if (!Acceptable(it->first, it->second.help, it->second.unit) || kept >= max_families_ ||
        bytes + need > max_bytes_) {
      it = families.erase(it);
      continue;
    }
    bytes += need;
    ++kept;
    ++it;
  }
  std::lock_guard<std::mutex> lock(mu_);
  families_ = std::move(families);
  bytes_ = bytes;
  version_.fetch_add(1, std::memory_order_acq_rel);
}

std::vector<std::pair<std::string, MetricMetadata>> MetadataStore::List(std::string_view metric,
                                                                        size_t limit) const {
  std::vector<std::pair<std::string, MetricMetadata>> out;
  std::lock_guard<std::mutex> lock(mu_);
  if (!metric.empty()) {
    auto it = families_.find(metric);
    if (it != families_.end()) out.emplace_back(it->first, it->second);
    return out;
  }
  for (const auto& [name, m] : families_) {
    if (limit > 0 && out.size() == limit) break;
    out.emplace_back(name, m);
  }
  return out;
}

std::map<std::string, MetricMetadata, std::less<>> MetadataStore::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return families_;
}

size_t MetadataStore::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return families_.size();
}

// ---- File ------------------------------------------------------------------------------------

namespace {

constexpr size_t kHeaderBytes = 12;  // magic 4, version 2, reserved 2, count 4
constexpr size_t kChecksumBytes = 4;

void AppendString(std::string_view s, std::string* out) {
  coding::AppendUvarint(s.size(), out);
  out->append(s);
}

}  // namespace

std::string EncodeMetadataFile(const std::map<std::string, MetricMetadata, std::less<>>& families) {
  std::string buf(kMetadataFileMagic, 4);
  char b2[2];
  coding::PutFixed16(b2, kMetadataFileVersion);
  buf.append(b2, 2);
  coding::PutFixed16(b2, 0);  // reserved
  buf.append(b2, 2);
  coding::AppendFixed32(static_cast<uint32_t>(families.size()), &buf);
  for (const auto& [name, m] : families) {
    buf.push_back(static_cast<char>(m.type));
    AppendString(name, &buf);
    AppendString(m.help, &buf);
    AppendString(m.unit, &buf);
  }
  coding::AppendFixed32(coding::Checksum32(buf), &buf);
  return buf;
}

Result<std::map<std::string, MetricMetadata, std::less<>>> DecodeMetadataFile(
    std::string_view bytes, std::string_view what) {
  auto corrupt = [&](size_t offset, const std::string& msg) {
    return Status::Corruption(std::string(what) + ": " + msg + " at byte " +
                              std::to_string(offset));
  };
  if (bytes.size() < kHeaderBytes + kChecksumBytes) {
    return corrupt(0, "too short for a metadata file (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kMetadataFileMagic, 4) != 0) return corrupt(0, "bad magic");
  const uint16_t version = coding::GetFixed16(bytes.data() + 4);
  if (version != kMetadataFileVersion) {
    return Status::NotSupported(std::string(what) + ": metadata file version " +
                                std::to_string(version) + " (this vigild reads version " +
                                std::to_string(kMetadataFileVersion) + ")");
  }
  const size_t body = bytes.size() - kChecksumBytes;
  if (coding::Checksum32(bytes.substr(0, body)) != coding::GetFixed32(bytes.data() + body)) {
    return corrupt(body, "checksum mismatch");
  }
  const uint32_t count = coding::GetFixed32(bytes.data() + 8);
  coding::Decoder d(bytes.substr(kHeaderBytes, body - kHeaderBytes));
  std::map<std::string, MetricMetadata, std::less<>> out;
  for (uint32_t i = 0; i < count; ++i) {
    const size_t at = kHeaderBytes + d.pos();
    const std::string_view type = d.Bytes(1);
    const std::string_view name = d.Bytes(d.Uvarint());
    const std::string_view help = d.Bytes(d.Uvarint());
    const std::string_view unit = d.Bytes(d.Uvarint());
    if (!d.ok())
      return corrupt(
          at, "entry " + std::to_string(i) + " of " + std::to_string(count) + " is truncated");
    if (static_cast<uint8_t>(type[0]) > static_cast<uint8_t>(MetricType::kStateset)) {
      return corrupt(at, "entry " + std::to_string(i) + " has unknown type " +
                             std::to_string(static_cast<uint8_t>(type[0])));
    }
    if (name.empty() || !IsValidUtf8(name) || !IsValidUtf8(help) || !IsValidUtf8(unit)) {
      return corrupt(at, "entry " + std::to_string(i) + " has an empty name or invalid UTF-8");
    }
    MetricMetadata m{static_cast<MetricType>(type[0]), std::string(help), std::string(unit)};
    if (!out.emplace(std::string(name), std::move(m)).second) {
      return corrupt(
          at, "entry " + std::to_string(i) + " repeats the family \"" + std::string(name) + "\"");
    }
  }
  if (!d.done())
    return corrupt(kHeaderBytes + d.pos(),
                   "trailing bytes after " + std::to_string(count) + " entries");
  return out;
}

// ---- Persister -------------------------------------------------------------------------------

MetadataPersister::MetadataPersister(FileSystem* fs, std::string path, MetadataStore* store,
                                     int64_t debounce_ms)
    : fs_(fs),
      path_(std::move(path)),
      store_(store),
      debounce_ms_(debounce_ms > 0 ? debounce_ms : 1) {}

MetadataPersister::~MetadataPersister() {
  Status st = Stop();
  if (!st.ok()) VIGIL_LOG(ERROR) << "metadata: " << st.ToString();
}

Status MetadataPersister::Load() {
  std::lock_guard<std::mutex> lock(save_mu_);
  store_->Reset({});
  saved_version_ = store_->version();
  if (!fs_->FileExists(path_)) return Status::OK();
  VIGIL_ASSIGN_OR_RETURN(std::string bytes, ReadFileToString(fs_, path_));
  VIGIL_ASSIGN_OR_RETURN(auto families, DecodeMetadataFile(bytes, path_));
  store_->Reset(std::move(families));
  saved_version_ = store_->version();
  return Status::OK();
}

Status MetadataPersister::SaveIfChanged() {
  std::lock_guard<std::mutex> lock(save_mu_);
  const uint64_t version = store_->version();
  if (version == saved_version_) return Status::OK();
  const std::string bytes = EncodeMetadataFile(store_->Snapshot());
  Status st = WriteFileAtomic(fs_, path_, bytes);
  if (!st.ok()) {
    save_failures_.fetch_add(1, std::memory_order_relaxed);
    return st.WithContext("saving metric metadata to " + path_);
  }
  // A change between version() and Snapshot() is in the file too, or saved next time.
  saved_version_ = version;
  saves_.fetch_add(1, std::memory_order_relaxed);
  return Status::OK();
}

void MetadataPersister::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void MetadataPersister::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, std::chrono::milliseconds(debounce_ms_), [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    Status st = SaveIfChanged();
    if (!st.ok()) VIGIL_LOG(WARN) << st.ToString() << " (retried later)";
    lock.lock();
  }
}

Status MetadataPersister::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  return SaveIfChanged();
}

}  // namespace vigil::server::ingest
