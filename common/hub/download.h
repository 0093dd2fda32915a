// One file of a pull into the cache: streamed to blobs/<etag>.incomplete,
// resumed with a Range request after a cut connection (bounded retries with
// back-off), verified (sha256 against the LFS object id, else the size) and
// only then renamed to blobs/<etag>. A wrong byte throws the partial file
// away and downloads it once more before giving up. Memory stays constant:
// no size from the network is ever used to allocate.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "common/hub/hub_cache.h"
#include "common/hub/hub_client.h"
#include "common/hub/progress.h"

namespace gemma3n::hub {

// blobs/<etag> exists with the announced size.
bool BlobComplete(const RepoCache& cache, const FileMetadata& meta);
// Bytes already in blobs/<etag>.incomplete (0 when none).
int64_t PartialBytes(const RepoCache& cache, const FileMetadata& meta);

absl::Status DownloadBlob(const HubClient& client, const RepoCache& cache, const FileMetadata& meta,
                          TransferProgress& progress);

// The file at `path` has meta's size and, for LFS files, its sha256.
absl::Status VerifyBlob(const std::string& path, const FileMetadata& meta);

}  // namespace gemma3n::hub
