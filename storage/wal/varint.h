#pragma once

// The WAL's byte coding is Vigil's shared one (compression/coding.h). Internal to storage/wal.

#include "compression/coding.h"

namespace vigil::storage::wal::detail {

using namespace ::vigil::compression::coding;  // NOLINT(build/namespaces)

}  // namespace vigil::storage::wal::detail
