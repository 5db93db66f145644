#include "server/http/gzip.h"

#include <zlib.h>

#include <cctype>
#include <cstdlib>

namespace vigil::server {

Status GzipCompress(std::string_view in, int level, std::string* out) {
  z_stream zs{};
  // windowBits 15 + 16: a gzip header and trailer instead of zlib's.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::Internal("gzip: deflateInit2 failed");
  }
  size_t base = out->size();
  out->resize(base + deflateBound(&zs, static_cast<uLong>(in.size())) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  zs.next_out = reinterpret_cast<Bytef*>(out->data() + base);
  zs.avail_out = static_cast<uInt>(out->size() - base);
  int rc = deflate(&zs, Z_FINISH);
  size_t produced = zs.total_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) {
    out->resize(base);
    return Status::Internal("gzip: deflate did not finish");
  }
  out->resize(base + produced);
  return Status::OK();
}

Status GzipDecompress(std::string_view in, uint64_t max_bytes, std::string* out) {
  z_stream zs{};
  // windowBits 15 + 32: accept both gzip and zlib headers.
  if (inflateInit2(&zs, 15 + 32) != Z_OK) return Status::Internal("gzip: inflateInit2 failed");
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  size_t base = out->size();
  char buf[64 * 1024];
  int rc = Z_OK;
  Status st;
  while (true) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof(buf);
    rc = inflate(&zs, Z_NO_FLUSH);
    size_t n = sizeof(buf) - zs.avail_out;
    if (out->size() - base + n > max_bytes) {
      st = Status::ResourceExhausted("gzip body inflates to more than " +
                                     std::to_string(max_bytes) + " bytes");
      break;
    }
    out->append(buf, n);
    if (rc == Z_STREAM_END) {
      // Concatenated gzip members are legal; continue with the next one.
      if (zs.avail_in > 0) {
        if (inflateReset(&zs) != Z_OK) {
          st = Status::Internal("gzip: inflateReset failed");
          break;
        }
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) {
      st = Status::InvalidArgument("gzip body is truncated (" + std::to_string(in.size()) +
                                   " bytes read)");
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      st = Status::InvalidArgument(std::string("gzip body is corrupt: ") +
                                   (zs.msg != nullptr ? zs.msg : "inflate error"));
      break;
    }
  }
  inflateEnd(&zs);
  if (!st.ok()) out->resize(base);
  return st;
}

bool AcceptsGzip(std::string_view header) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view item = header.substr(pos, comma - pos);
    pos = comma + 1;
    size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.front()))) {
      coding.remove_prefix(1);
    }
    while (!coding.empty() && std::isspace(static_cast<unsigned char>(coding.back()))) {
      coding.remove_suffix(1);
    }
    bool match = coding.size() == 4 && (std::tolower(coding[0]) == 'g') &&
                 (std::tolower(coding[1]) == 'z') && (std::tolower(coding[2]) == 'i') &&
                 (std::tolower(coding[3]) == 'p');
    if (!match && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = item.substr(semi + 1);
    size_t q = params.find("q=");
    if (q == std::string_view::npos) return true;
    std::string qv(params.substr(q + 2));
    return std::strtod(qv.c_str(), nullptr) > 0;
  }
  return false;
}

}  // namespace vigil::server
