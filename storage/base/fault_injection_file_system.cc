#include "storage/base/fault_injection_file_system.h"

#include <filesystem>

#include "storage/base/logging.h"

namespace vigil {
namespace {

std::string Normalize(const std::string& path) {
  std::string out = std::filesystem::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out.empty() ? "." : out;
}

// True if `key` is `dir` or lies below it.
bool IsAtOrBelow(const std::string& key, const std::string& dir) {
  if (key == dir) return true;
  if (dir == "/") return key.size() > 1 && key.front() == '/';
  return key.size() > dir.size() && key.compare(0, dir.size(), dir) == 0 && key[dir.size()] == '/';
}

std::string_view OpName(FaultOp op) {
  switch (op) {
    case FaultOp::kAppend: return "append";
    case FaultOp::kSync: return "sync";
    case FaultOp::kSyncDir: return "sync directory";
    case FaultOp::kRename: return "rename";
    case FaultOp::kOpenWrite: return "open for writing";
  }
  return "?";
}

}  // namespace

class FaultInjectionFileSystem::File final : public WritableFile {
 public:
  File(FaultInjectionFileSystem* fs, std::unique_ptr<WritableFile> target,
       std::shared_ptr<Tracked> tracked)
      : fs_(fs), target_(std::move(target)), tracked_(std::move(tracked)) {}

  ~File() override {
    if (!closed_) {
      Status st = Close();
      if (!st.ok()) VIGIL_LOG(WARN) << "closing unclosed file: " << st.ToString();
    }
  }

  Status Append(std::string_view data) override {
    size_t allowed = data.size();
    bool out_of_space = false;
    {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      VIGIL_RETURN_IF_ERROR(fs_->Tick(FaultOp::kAppend, path()));
      if (fs_->budget_active_ && fs_->budget_left_ < data.size()) {
        allowed = fs_->budget_left_;
        out_of_space = true;
        ++fs_->injected_;
      }
      if (fs_->budget_active_) fs_->budget_left_ -= allowed;
    }
    uint64_t before = target_->Size();
    Status st = allowed > 0 ? target_->Append(data.substr(0, allowed)) : Status::OK();
    {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      fs_->bytes_appended_ += target_->Size() - before;
    }
    VIGIL_RETURN_IF_ERROR(st);
    if (out_of_space) {
      return Status::NoSpace("append " + path() + ": injected disk full (write budget exhausted after " +
                             std::to_string(allowed) + " of " + std::to_string(data.size()) +
                             " bytes)");
    }
    return Status::OK();
  }

  Status Flush() override { return target_->Flush(); }

  Status Sync() override {
    {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      VIGIL_RETURN_IF_ERROR(fs_->Tick(FaultOp::kSync, path()));
    }
    VIGIL_RETURN_IF_ERROR(target_->Sync());
    std::lock_guard<std::mutex> lock(fs_->mu_);
    tracked_->synced_size = target_->Size();
    return Status::OK();
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    Status st = target_->Close();
    std::lock_guard<std::mutex> lock(fs_->mu_);
    --tracked_->open_writers;
    return st;
  }

  uint64_t Size() const override { return target_->Size(); }
  const std::string& path() const override { return target_->path(); }

 private:
  FaultInjectionFileSystem* const fs_;
  const std::unique_ptr<WritableFile> target_;
  const std::shared_ptr<Tracked> tracked_;
  bool closed_ = false;
};

FaultInjectionFileSystem::FaultInjectionFileSystem(FileSystem* target) : target_(target) {}
FaultInjectionFileSystem::~FaultInjectionFileSystem() = default;

void FaultInjectionFileSystem::FailNth(FaultOp op, uint64_t n, bool sticky) {
  std::lock_guard<std::mutex> lock(mu_);
  int i = static_cast<int>(op);
  plans_[i] = Plan{true, counts_[i] + n, sticky};
}

void FaultInjectionFileSystem::SetWriteBudget(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  budget_active_ = true;
  budget_left_ = bytes;
}

void FaultInjectionFileSystem::ClearWriteBudget() {
  std::lock_guard<std::mutex> lock(mu_);
  budget_active_ = false;
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  plans_ = {};
  budget_active_ = false;
}

uint64_t FaultInjectionFileSystem::count(FaultOp op) const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_[static_cast<int>(op)];
}

uint64_t FaultInjectionFileSystem::bytes_appended() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_appended_;
}

uint64_t FaultInjectionFileSystem::injected_faults() const {
  std::lock_guard<std::mutex> lock(mu_);
  return injected_;
}

void FaultInjectionFileSystem::ResetCounters() {
  std::lock_guard<std::mutex> lock(mu_);
  for (int i = 0; i < kNumFaultOps; ++i) {
    // Planned faults keep their position relative to the calls still to come.
    if (plans_[i].active) {
      plans_[i].fail_at = plans_[i].fail_at > counts_[i] ? plans_[i].fail_at - counts_[i] : 0;
    }
    counts_[i] = 0;
  }
  bytes_appended_ = 0;
  injected_ = 0;
}

Status FaultInjectionFileSystem::Tick(FaultOp op, const std::string& path) {
  int i = static_cast<int>(op);
  uint64_t c = ++counts_[i];
  const Plan& p = plans_[i];
  if (p.active && (c == p.fail_at || (p.sticky && c > p.fail_at))) {
    ++injected_;
    return Status::IOError("injected fault: " + std::string(OpName(op)) + " #" +
                           std::to_string(c) + " on " + path);
  }
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::Open(const std::string& path,
                                                                     bool append) {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(Tick(FaultOp::kOpenWrite, path));
  const bool existed = target_->FileExists(path);
  VIGIL_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                         append ? target_->NewAppendableFile(path) : target_->NewWritableFile(path));
  std::shared_ptr<Tracked>& t = tracked_[Normalize(path)];
  if (!t) {
    t = std::make_shared<Tracked>();
    t->entry_durable = existed;
    t->synced_size = append ? file->Size() : 0;
  } else if (!append) {
    t->synced_size = 0;
  }
  ++t->open_writers;
  return std::unique_ptr<WritableFile>(new File(this, std::move(file), t));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewWritableFile(
    const std::string& path) {
  return Open(path, /*append=*/false);
}

Result<std::unique_ptr<WritableFile>> FaultInjectionFileSystem::NewAppendableFile(
    const std::string& path) {
  return Open(path, /*append=*/true);
}

Status FaultInjectionFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(target_->RemoveFile(path));
  tracked_.erase(Normalize(path));
  return Status::OK();
}

Status FaultInjectionFileSystem::RemoveDirAll(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(target_->RemoveDirAll(path));
  const std::string dir = Normalize(path);
  std::erase_if(tracked_, [&](const auto& kv) { return IsAtOrBelow(kv.first, dir); });
  return Status::OK();
}

Status FaultInjectionFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(Tick(FaultOp::kRename, from + " -> " + to));
  const std::string f = Normalize(from), t = Normalize(to);
  auto old_target = tracked_.find(t);
  const bool target_durable =
      old_target != tracked_.end() ? old_target->second->entry_durable : target_->FileExists(to);
  VIGIL_RETURN_IF_ERROR(target_->Rename(from, to));
  if (f == t) return Status::OK();
  // The inode now at `to` replaced whatever was tracked there (and below, for a directory).
  std::map<std::string, std::shared_ptr<Tracked>> moved;
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    if (IsAtOrBelow(it->first, f)) {
      moved[t + it->first.substr(f.size())] = std::move(it->second);
      it = tracked_.erase(it);
    } else if (IsAtOrBelow(it->first, t)) {
      it = tracked_.erase(it);
    } else {
      ++it;
    }
  }
  auto self = moved.find(t);
  // A renamed name is durable if the old one was or if it replaced a durable file: after a crash
  // one of the two names (or contents) remains, never neither.
  if (self != moved.end()) self->second->entry_durable = self->second->entry_durable || target_durable;
  tracked_.merge(moved);
  return Status::OK();
}

Status FaultInjectionFileSystem::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(Tick(FaultOp::kSyncDir, path));
  VIGIL_RETURN_IF_ERROR(target_->SyncDir(path));
  const std::string dir = Normalize(path);
  for (auto& [key, t] : tracked_) {
    if (Normalize(DirName(key)) == dir) t->entry_durable = true;
  }
  return Status::OK();
}

Status FaultInjectionFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  VIGIL_RETURN_IF_ERROR(target_->Truncate(path, size));
  auto it = tracked_.find(Normalize(path));
  if (it != tracked_.end()) it->second->synced_size = size;  // Truncate is durable
  return Status::OK();
}

Status FaultInjectionFileSystem::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [key, t] : tracked_) {
    if (t->open_writers > 0) {
      return Status::InvalidArgument("DropUnsyncedData: " + key + " is still open for writing");
    }
  }
  for (auto it = tracked_.begin(); it != tracked_.end();) {
    const std::string& path = it->first;
    Tracked& t = *it->second;
    if (!t.entry_durable) {
      Status st = target_->RemoveFile(path);
      if (!st.ok() && !st.IsNotFound()) return st.WithContext("DropUnsyncedData");
      it = tracked_.erase(it);
      continue;
    }
    Result<uint64_t> size = target_->FileSize(path);
    if (!size.ok()) {
      if (!size.status().IsNotFound()) return size.status().WithContext("DropUnsyncedData");
      it = tracked_.erase(it);
      continue;
    }
    if (*size > t.synced_size) {
      VIGIL_RETURN_IF_ERROR(target_->Truncate(path, t.synced_size).WithContext("DropUnsyncedData"));
    }
    ++it;
  }
  return Status::OK();
}

}  // namespace vigil
