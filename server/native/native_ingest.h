#pragma once

// Writes one native WriteBatch into a Db with the semantics of server/ingest/ingest.h: one atomic
// commit per batch; bad series rejected by name while the rest is written.

#include "server/ingest/ingest.h"
#include "server/native/native_generated.h"

namespace vigil::storage {
class Db;
}  // namespace vigil::storage

namespace vigil::native {

// REQUIRES: `batch` passed the FlatBuffers verifier (VerifyFrame).
server::ingest::IngestOutcome IngestNativeBatch(storage::Db& db, const fb::WriteBatch& batch,
                                                const server::ingest::IngestOptions& options);

// The Ack status for an outcome.
fb::BatchStatus ToBatchStatus(server::ingest::IngestCode code);

}  // namespace vigil::native
