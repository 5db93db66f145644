#include "storage/block/meta.h"

#include <map>
#include <memory>

#include "storage/block/block_id.h"
#include "storage/block/format.h"

namespace vigil::storage {

namespace {

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (u < 0x20) {
      out->append("\\u00");
      out->push_back(kHex[u >> 4]);
      out->push_back(kHex[u & 15]);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// A parsed JSON value, restricted to what meta.json uses: integers, strings, arrays, objects
// (plus true/false/null so that unknown keys may hold them).
struct Value {
  enum Kind { kInt, kString, kArray, kObject, kOther } kind = kOther;
  int64_t i = 0;
  std::string s;
  std::vector<Value> items;
  std::map<std::string, Value, std::less<>> fields;
  size_t offset = 0;
};

class Parser {
 public:
  explicit Parser(std::string_view in) : in_(in) {}

  Status Parse(Value* v) {
    if (!ParseValue(v, 0)) return error_;
    SkipSpace();
    if (pos_ != in_.size()) Fail("trailing bytes");
    return error_;
  }

 private:
  static constexpr int kMaxDepth = 16;

  bool Fail(std::string_view what) {
    if (error_.ok()) {
      error_ = Status::Corruption("meta.json: " + std::string(what) + " at offset " + std::to_string(pos_));
    }
    return false;
  }
  void SkipSpace() {
    while (pos_ < in_.size() && (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t')) ++pos_;
  }
  bool Consume(char c) {
    SkipSpace();
    if (pos_ < in_.size() && in_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  bool ParseValue(Value* v, int depth) {
    if (depth > kMaxDepth) return Fail("nesting too deep");
    SkipSpace();
    v->offset = pos_;
    if (pos_ >= in_.size()) return Fail("unexpected end");
    const char c = in_[pos_];
    if (c == '{') return ParseObject(v, depth);
    if (c == '[') return ParseArray(v, depth);
    if (c == '"') {
      v->kind = Value::kString;
      return ParseString(&v->s);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseInt(v);
    for (std::string_view word : {"true", "false", "null"}) {
      if (in_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        v->kind = Value::kOther;
        return true;
      }
    }
    return Fail("unexpected character");
  }

  bool ParseInt(Value* v) {
    const bool neg = in_[pos_] == '-';
    if (neg) ++pos_;
    if (pos_ >= in_.size() || in_[pos_] < '0' || in_[pos_] > '9') return Fail("expected a digit");
    // JSON has no leading zeros; refusing them also catches a space flipped into a '0'.
    if (in_[pos_] == '0' && pos_ + 1 < in_.size() && in_[pos_ + 1] >= '0' && in_[pos_ + 1] <= '9') {
      return Fail("leading zero in an integer");
    }
    uint64_t mag = 0;
    const uint64_t limit = neg ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
    while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') {
      const uint64_t d = static_cast<uint64_t>(in_[pos_] - '0');
      if (mag > (limit - d) / 10) return Fail("integer out of range");
      mag = mag * 10 + d;
      ++pos_;
    }
    if (pos_ < in_.size() && (in_[pos_] == '.' || in_[pos_] == 'e' || in_[pos_] == 'E')) {
      return Fail("expected an integer");
    }
    v->kind = Value::kInt;
    v->i = neg ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    return true;
  }

  bool ParseString(std::string* out) {
    ++pos_;  // opening quote
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return Fail("control character in string");
      if (c != '\\') {
        out->push_back(c);
        continue;
      }
      if (pos_ >= in_.size()) break;
      const char e = in_[pos_++];
      switch (e) {
        case '"': case '\\': case '/': out->push_back(e); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          if (in_.size() - pos_ < 4) return Fail("truncated \\u escape");
          uint32_t cp = 0;
          for (int i = 0; i < 4; ++i) {
            const char h = in_[pos_++];
            int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
            if (d < 0) return Fail("bad \\u escape");
            cp = cp << 4 | static_cast<uint32_t>(d);
          }
          // Only ASCII is ever written; other code points are kept as UTF-8 without pairing.
          if (cp < 0x80) {
            out->push_back(static_cast<char>(cp));
          } else if (cp < 0x800) {
            out->push_back(static_cast<char>(0xC0 | cp >> 6));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          } else {
            out->push_back(static_cast<char>(0xE0 | cp >> 12));
            out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
            out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
          }
          break;
        }
        default: return Fail("bad escape");
      }
    }
    return Fail("unterminated string");
  }

  bool ParseArray(Value* v, int depth) {
    ++pos_;
    v->kind = Value::kArray;
    if (Consume(']')) return true;
    while (true) {
      v->items.emplace_back();
      if (!ParseValue(&v->items.back(), depth + 1)) return false;
      if (Consume(']')) return true;
      if (!Consume(',')) return Fail("expected ',' or ']'");
    }
  }

  bool ParseObject(Value* v, int depth) {
    ++pos_;
    v->kind = Value::kObject;
    if (Consume('}')) return true;
    while (true) {
      SkipSpace();
      if (pos_ >= in_.size() || in_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!ParseString(&key)) return false;
      if (!Consume(':')) return Fail("expected ':'");
      Value item;
      if (!ParseValue(&item, depth + 1)) return false;
      if (!v->fields.emplace(std::move(key), std::move(item)).second) return Fail("duplicate key");
      if (Consume('}')) return true;
      if (!Consume(',')) return Fail("expected ',' or '}'");
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  Status error_;
};

Status FieldError(const Value& where, std::string_view key, std::string_view what) {
  return Status::Corruption("meta.json: " + std::string(key) + " " + std::string(what) +
                            " at offset " + std::to_string(where.offset));
}

Result<const Value*> Field(const Value& obj, std::string_view key, Value::Kind kind) {
  auto it = obj.fields.find(key);
  if (it == obj.fields.end()) return FieldError(obj, key, "missing in the object");
  if (it->second.kind != kind) return FieldError(it->second, key, "has the wrong type");
  return &it->second;
}

Status GetUint(const Value& obj, std::string_view key, uint64_t* out) {
  VIGIL_ASSIGN_OR_RETURN(const Value* v, Field(obj, key, Value::kInt));
  if (v->i < 0) return FieldError(*v, key, "is negative");
  *out = static_cast<uint64_t>(v->i);
  return Status::OK();
}

}  // namespace

std::string EncodeBlockMeta(const BlockMeta& meta) {
  std::string out = "{\n  \"version\": " + std::to_string(meta.version) + ",\n  \"id\": ";
  AppendJsonString(meta.id, &out);
  out += ",\n  \"min_time\": " + std::to_string(meta.min_time);
  out += ",\n  \"max_time\": " + std::to_string(meta.max_time);
  out += ",\n  \"stats\": {\n    \"series\": " + std::to_string(meta.stats.series);
  out += ",\n    \"samples\": " + std::to_string(meta.stats.samples);
  out += ",\n    \"chunks\": " + std::to_string(meta.stats.chunks);
  out += "\n  },\n  \"compaction\": {\n    \"level\": " + std::to_string(meta.compaction_level);
  out += ",\n    \"sources\": [";
  for (size_t i = 0; i < meta.compaction_sources.size(); ++i) {
    out += i == 0 ? "\n      " : ",\n      ";
    AppendJsonString(meta.compaction_sources[i], &out);
  }
  out += meta.compaction_sources.empty() ? "]" : "\n    ]";
  out += "\n  }\n}\n";
  return out;
}

Result<BlockMeta> ParseBlockMeta(std::string_view json) {
  Value root;
  VIGIL_RETURN_IF_ERROR(Parser(json).Parse(&root));
  if (root.kind != Value::kObject) return FieldError(root, "document", "is not an object");
  BlockMeta meta;
  VIGIL_ASSIGN_OR_RETURN(const Value* version, Field(root, "version", Value::kInt));
  if (version->i != block::kMetaVersion) {
    return FieldError(*version, "version", "is " + std::to_string(version->i) + ", want 1");
  }
  meta.version = static_cast<int>(version->i);
  VIGIL_ASSIGN_OR_RETURN(const Value* id, Field(root, "id", Value::kString));
  if (!IsValidBlockId(id->s)) return FieldError(*id, "id", "is not a valid block id");
  meta.id = id->s;
  VIGIL_ASSIGN_OR_RETURN(const Value* min_t, Field(root, "min_time", Value::kInt));
  VIGIL_ASSIGN_OR_RETURN(const Value* max_t, Field(root, "max_time", Value::kInt));
  if (min_t->i > max_t->i) return FieldError(*min_t, "min_time", "is after max_time");
  meta.min_time = min_t->i;
  meta.max_time = max_t->i;
  VIGIL_ASSIGN_OR_RETURN(const Value* stats, Field(root, "stats", Value::kObject));
  VIGIL_RETURN_IF_ERROR(GetUint(*stats, "series", &meta.stats.series));
  VIGIL_RETURN_IF_ERROR(GetUint(*stats, "samples", &meta.stats.samples));
  VIGIL_RETURN_IF_ERROR(GetUint(*stats, "chunks", &meta.stats.chunks));
  VIGIL_ASSIGN_OR_RETURN(const Value* compaction, Field(root, "compaction", Value::kObject));
  uint64_t level = 0;
  VIGIL_RETURN_IF_ERROR(GetUint(*compaction, "level", &level));
  if (level < 1 || level > 1000) return FieldError(*compaction, "level", "is out of range");
  meta.compaction_level = static_cast<int>(level);
  VIGIL_ASSIGN_OR_RETURN(const Value* sources, Field(*compaction, "sources", Value::kArray));
  for (const Value& s : sources->items) {
    if (s.kind != Value::kString || !IsValidBlockId(s.s)) {
      return FieldError(s, "sources", "holds something other than a block id");
    }
    meta.compaction_sources.push_back(s.s);
  }
  return meta;
}

}  // namespace vigil::storage
