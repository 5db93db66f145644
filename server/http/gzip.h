#pragma once

// gzip for HTTP bodies (zlib): compressing responses for clients that send
// `Accept-Encoding: gzip`, and inflating `Content-Encoding: gzip` request bodies with a bound on
// the inflated size (a small body must not expand into gigabytes).

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/base/status.h"

namespace vigil::server {

// gzip-compresses in (level 1..9; 1 is fast and still shrinks JSON 5-10x) and appends to *out.
Status GzipCompress(std::string_view in, int level, std::string* out);

// Inflates a gzip or zlib stream (detected from its header) into *out. ResourceExhausted when
// the result would exceed max_bytes; InvalidArgument for corrupt or truncated input.
Status GzipDecompress(std::string_view in, uint64_t max_bytes, std::string* out);

// Whether an Accept-Encoding header value allows gzip (a `gzip` or `*` entry whose q is not 0).
bool AcceptsGzip(std::string_view accept_encoding);

}  // namespace vigil::server
