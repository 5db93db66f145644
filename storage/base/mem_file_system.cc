#include "storage/base/mem_file_system.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_set>

namespace vigil {
namespace {

struct Node {
  explicit Node(bool dir) : is_dir(dir) {}
  const bool is_dir;

  // Files. Invariant: data[0, clean_prefix) == durable_data[0, clean_prefix), so Sync() copies only
  // what changed since the last sync.
  std::string data;
  std::string durable_data;
  size_t clean_prefix = 0;

  // Directories.
  std::map<std::string, std::shared_ptr<Node>> entries;
  std::map<std::string, std::shared_ptr<Node>> durable_entries;

  void SyncData() {
    durable_data.resize(clean_prefix);
    durable_data.append(data, clean_prefix, std::string::npos);
    clean_prefix = data.size();
  }
  void ResizeData(size_t size) {
    data.resize(size, '\0');
    clean_prefix = std::min(clean_prefix, size);
  }
};

using NodePtr = std::shared_ptr<Node>;

// Lexically normalised components: "/a//./b/../c" -> {"a", "c"}.
std::vector<std::string> Components(const std::string& path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part == "..") {
      if (!out.empty()) out.pop_back();
    } else if (!part.empty() && part != ".") {
      out.push_back(std::move(part));
    }
    i = j + 1;
  }
  return out;
}

std::string Canonical(const std::vector<std::string>& comps) {
  std::string out;
  for (const std::string& c : comps) {
    out += '/';
    out += c;
  }
  return out.empty() ? "/" : out;
}

Status NotFound(std::string_view op, const std::string& path) {
  return Status::NotFound(std::string(op) + " " + path + ": No such file or directory");
}
Status IOErr(std::string_view op, const std::string& path, std::string_view what) {
  return Status::IOError(std::string(op) + " " + path + ": " + std::string(what));
}

}  // namespace

struct MemFileSystem::State {
  std::mutex mu;
  NodePtr root = std::make_shared<Node>(true);
  uint64_t epoch = 0;  // bumped by SimulateCrash(); file objects from older epochs are dead
  uint64_t next_lock_id = 1;
  std::map<std::string, uint64_t> locks;  // canonical path -> lock id

  // REQUIRES: mu held. The node at `path`, or null (with *err set) if it does not resolve.
  NodePtr Lookup(const std::string& op, const std::string& path, Status* err) {
    NodePtr cur = root;
    for (const std::string& c : Components(path)) {
      if (!cur->is_dir) {
        *err = IOErr(op, path, "Not a directory");
        return nullptr;
      }
      auto it = cur->entries.find(c);
      if (it == cur->entries.end()) {
        *err = NotFound(op, path);
        return nullptr;
      }
      cur = it->second;
    }
    return cur;
  }

  // REQUIRES: mu held. The directory that holds `path` and the entry name; name is empty for root.
  Result<std::pair<NodePtr, std::string>> Parent(const std::string& op, const std::string& path) {
    std::vector<std::string> comps = Components(path);
    if (comps.empty()) return std::pair<NodePtr, std::string>(root, "");
    std::string name = std::move(comps.back());
    comps.pop_back();
    NodePtr cur = root;
    for (const std::string& c : comps) {
      auto it = cur->entries.find(c);
      if (it == cur->entries.end()) return NotFound(op, path);
      cur = it->second;
      if (!cur->is_dir) return IOErr(op, path, "Not a directory");
    }
    return std::pair<NodePtr, std::string>(cur, std::move(name));
  }

  // REQUIRES: mu held. Opens (and creates if missing) the file at `path`.
  Result<NodePtr> OpenFile(const std::string& op, const std::string& path, bool truncate) {
    VIGIL_ASSIGN_OR_RETURN(auto parent, Parent(op, path));
    auto& [dir, name] = parent;
    if (name.empty()) return IOErr(op, path, "Is a directory");
    NodePtr& slot = dir->entries[name];
    if (!slot) slot = std::make_shared<Node>(false);
    if (slot->is_dir) return IOErr(op, path, "Is a directory");
    if (truncate) slot->ResizeData(0);
    return slot;
  }

  Status CheckEpoch(uint64_t file_epoch, const std::string& path) const {
    if (file_epoch == epoch) return Status::OK();
    return Status::IOError(path + ": file object invalidated by a simulated crash");
  }
};

namespace {

using State = MemFileSystem::State;

class MemWritableFile final : public WritableFile {
 public:
  MemWritableFile(std::shared_ptr<State> state, NodePtr node, std::string path)
      : state_(std::move(state)),
        node_(std::move(node)),
        path_(std::move(path)),
        epoch_(state_->epoch),
        size_(node_->data.size()) {}

  Status Append(std::string_view data) override {
    std::lock_guard<std::mutex> lock(state_->mu);
    VIGIL_RETURN_IF_ERROR(Check("append"));
    node_->data.append(data);
    size_ += data.size();
    return Status::OK();
  }
  Status Flush() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    return Check("flush");
  }
  Status Sync() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    VIGIL_RETURN_IF_ERROR(Check("sync"));
    node_->SyncData();
    return Status::OK();
  }
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  uint64_t Size() const override { return size_; }
  const std::string& path() const override { return path_; }

 private:
  // REQUIRES: state_->mu held.
  Status Check(std::string_view op) const {
    if (closed_) return Status::IOError(std::string(op) + " " + path_ + ": file is closed");
    return state_->CheckEpoch(epoch_, path_);
  }

  const std::shared_ptr<State> state_;
  const NodePtr node_;
  const std::string path_;
  const uint64_t epoch_;
  uint64_t size_;
  bool closed_ = false;
};

class MemRandomAccessFile final : public RandomAccessFile {
 public:
  MemRandomAccessFile(std::shared_ptr<State> state, NodePtr node, std::string path)
      : state_(std::move(state)), node_(std::move(node)), path_(std::move(path)),
        epoch_(state_->epoch) {}

  Result<std::string_view> ReadAt(uint64_t offset, size_t n, char* scratch) const override {
    std::lock_guard<std::mutex> lock(state_->mu);
    VIGIL_RETURN_IF_ERROR(state_->CheckEpoch(epoch_, path_));
    const std::string& data = node_->data;
    if (offset >= data.size()) return std::string_view(scratch, 0);
    size_t len = std::min<uint64_t>(n, data.size() - offset);
    std::memcpy(scratch, data.data() + offset, len);
    return std::string_view(scratch, len);
  }

  Result<uint64_t> Size() const override {
    std::lock_guard<std::mutex> lock(state_->mu);
    VIGIL_RETURN_IF_ERROR(state_->CheckEpoch(epoch_, path_));
    return static_cast<uint64_t>(node_->data.size());
  }

  // A snapshot rather than a view of the live buffer, which a writer may reallocate.
  std::optional<std::string_view> Mapped() const override {
    std::call_once(snapshot_once_, [this] {
      std::lock_guard<std::mutex> lock(state_->mu);
      if (state_->CheckEpoch(epoch_, path_).ok()) {
        snapshot_ = node_->data;
        snapshot_ok_ = true;
      }
    });
    if (!snapshot_ok_) return std::nullopt;
    return std::string_view(snapshot_);
  }

  const std::string& path() const override { return path_; }

 private:
  const std::shared_ptr<State> state_;
  const NodePtr node_;
  const std::string path_;
  const uint64_t epoch_;
  mutable std::once_flag snapshot_once_;
  mutable std::string snapshot_;
  mutable bool snapshot_ok_ = false;
};

class MemFileLock final : public FileLock {
 public:
  MemFileLock(std::shared_ptr<State> state, std::string key, uint64_t id, std::string path)
      : state_(std::move(state)), key_(std::move(key)), id_(id), path_(std::move(path)) {}
  ~MemFileLock() override {
    std::lock_guard<std::mutex> lock(state_->mu);
    auto it = state_->locks.find(key_);
    if (it != state_->locks.end() && it->second == id_) state_->locks.erase(it);
  }
  const std::string& path() const override { return path_; }

 private:
  const std::shared_ptr<State> state_;
  const std::string key_;
  const uint64_t id_;
  const std::string path_;
};

}  // namespace

MemFileSystem::MemFileSystem() : state_(std::make_shared<State>()) {}
MemFileSystem::~MemFileSystem() = default;

std::unique_ptr<MemFileSystem> NewMemFileSystem() { return std::make_unique<MemFileSystem>(); }

Result<std::unique_ptr<WritableFile>> MemFileSystem::NewWritableFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  VIGIL_ASSIGN_OR_RETURN(NodePtr node, state_->OpenFile("open", path, /*truncate=*/true));
  return std::unique_ptr<WritableFile>(new MemWritableFile(state_, std::move(node), path));
}

Result<std::unique_ptr<WritableFile>> MemFileSystem::NewAppendableFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  VIGIL_ASSIGN_OR_RETURN(NodePtr node, state_->OpenFile("open", path, /*truncate=*/false));
  return std::unique_ptr<WritableFile>(new MemWritableFile(state_, std::move(node), path));
}

Result<std::unique_ptr<RandomAccessFile>> MemFileSystem::NewRandomAccessFile(
    const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  NodePtr node = state_->Lookup("open", path, &err);
  if (!node) return err;
  if (node->is_dir) return IOErr("open", path, "Is a directory");
  return std::unique_ptr<RandomAccessFile>(new MemRandomAccessFile(state_, std::move(node), path));
}

bool MemFileSystem::FileExists(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  return state_->Lookup("stat", path, &err) != nullptr;
}

bool MemFileSystem::DirExists(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  NodePtr node = state_->Lookup("stat", path, &err);
  return node && node->is_dir;
}

Result<std::vector<std::string>> MemFileSystem::ListDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  NodePtr node = state_->Lookup("opendir", path, &err);
  if (!node) return err;
  if (!node->is_dir) return IOErr("opendir", path, "Not a directory");
  std::vector<std::string> names;
  names.reserve(node->entries.size());
  for (const auto& [name, child] : node->entries) names.push_back(name);
  return names;  // std::map keeps them sorted bytewise
}

Status MemFileSystem::CreateDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  VIGIL_ASSIGN_OR_RETURN(auto parent, state_->Parent("mkdir", path));
  auto& [dir, name] = parent;
  if (name.empty()) return Status::OK();  // the root
  NodePtr& slot = dir->entries[name];
  if (!slot) {
    slot = std::make_shared<Node>(true);
    return Status::OK();
  }
  if (slot->is_dir) return Status::OK();
  return Status::AlreadyExists("mkdir " + path + ": exists and is not a directory");
}

Status MemFileSystem::CreateDirs(const std::string& path) {
  std::string prefix;
  for (const std::string& c : Components(path)) {
    prefix += '/';
    prefix += c;
    VIGIL_RETURN_IF_ERROR(CreateDir(prefix).WithContext(path));
  }
  return Status::OK();
}

Status MemFileSystem::RemoveFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  VIGIL_ASSIGN_OR_RETURN(auto parent, state_->Parent("unlink", path));
  auto& [dir, name] = parent;
  auto it = dir->entries.find(name);
  if (name.empty() || (it != dir->entries.end() && it->second->is_dir)) {
    return IOErr("unlink", path, "Is a directory");
  }
  if (it == dir->entries.end()) return NotFound("unlink", path);
  dir->entries.erase(it);
  return Status::OK();
}

Status MemFileSystem::RemoveDirAll(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  auto parent = state_->Parent("remove_all", path);
  if (!parent.ok()) return parent.status().IsNotFound() ? Status::OK() : parent.status();
  auto& [dir, name] = *parent;
  if (name.empty()) {
    dir->entries.clear();
  } else {
    dir->entries.erase(name);
  }
  return Status::OK();
}

Status MemFileSystem::Rename(const std::string& from, const std::string& to) {
  std::lock_guard<std::mutex> lock(state_->mu);
  const std::string what = from + " -> " + to;
  VIGIL_ASSIGN_OR_RETURN(auto src, state_->Parent("rename", from));
  VIGIL_ASSIGN_OR_RETURN(auto dst, state_->Parent("rename", to));
  auto& [src_dir, src_name] = src;
  auto& [dst_dir, dst_name] = dst;
  if (src_name.empty() || dst_name.empty()) return IOErr("rename", what, "Device or resource busy");
  auto it = src_dir->entries.find(src_name);
  if (it == src_dir->entries.end()) return NotFound("rename", what);
  NodePtr node = it->second;
  if (src_dir == dst_dir && src_name == dst_name) return Status::OK();
  if (node->is_dir) {
    std::vector<std::string> f = Components(from), t = Components(to);
    if (t.size() > f.size() && std::equal(f.begin(), f.end(), t.begin())) {
      return IOErr("rename", what, "Invalid argument");
    }
  }
  auto target = dst_dir->entries.find(dst_name);
  if (target != dst_dir->entries.end()) {
    const NodePtr& old = target->second;
    if (old == node) return Status::OK();  // both names already link the same inode
    if (old->is_dir && !node->is_dir) return IOErr("rename", what, "Is a directory");
    if (!old->is_dir && node->is_dir) return IOErr("rename", what, "Not a directory");
    if (old->is_dir && !old->entries.empty()) return IOErr("rename", what, "Directory not empty");
  }
  src_dir->entries.erase(it);
  dst_dir->entries[dst_name] = std::move(node);
  return Status::OK();
}

Status MemFileSystem::SyncDir(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  NodePtr node = state_->Lookup("fsync directory", path, &err);
  if (!node) return err;
  if (!node->is_dir) return IOErr("open directory", path, "Not a directory");
  node->durable_entries = node->entries;
  return Status::OK();
}

Result<uint64_t> MemFileSystem::FileSize(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  NodePtr node = state_->Lookup("stat", path, &err);
  if (!node) return err;
  if (node->is_dir) return IOErr("stat", path, "Is a directory");
  return static_cast<uint64_t>(node->data.size());
}

Status MemFileSystem::Truncate(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> lock(state_->mu);
  Status err;
  NodePtr node = state_->Lookup("open", path, &err);
  if (!node) return err;
  if (node->is_dir) return IOErr("open", path, "Is a directory");
  node->ResizeData(size);
  node->SyncData();  // like the POSIX implementation, truncation is followed by fsync
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> MemFileSystem::LockFile(const std::string& path) {
  std::lock_guard<std::mutex> lock(state_->mu);
  std::string key = Canonical(Components(path));
  if (state_->locks.count(key) != 0) {
    return Status::Unavailable("lock " + path + " is held by pid " + std::to_string(::getpid()) +
                               " (this process)");
  }
  VIGIL_ASSIGN_OR_RETURN(NodePtr node, state_->OpenFile("open lock file", path, true));
  node->data = std::to_string(::getpid()) + "\n";
  uint64_t id = state_->next_lock_id++;
  state_->locks[key] = id;
  return std::unique_ptr<FileLock>(new MemFileLock(state_, std::move(key), id, path));
}

void MemFileSystem::SimulateCrash() {
  std::lock_guard<std::mutex> lock(state_->mu);
  ++state_->epoch;
  state_->locks.clear();
  // A rename across directories can leave one inode under two names; revert each inode once.
  std::unordered_set<Node*> seen;
  std::vector<Node*> stack{state_->root.get()};
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (!seen.insert(node).second) continue;
    if (node->is_dir) {
      node->entries = node->durable_entries;
      for (auto& [name, child] : node->entries) stack.push_back(child.get());
    } else {
      node->data = node->durable_data;
      node->clean_prefix = node->data.size();
    }
  }
}

uint64_t MemFileSystem::crash_count() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->epoch;
}

}  // namespace vigil
