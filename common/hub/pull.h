// A whole pull: the revision's commit and file list from the hub, the files
// a checkpoint needs (model_files.h) downloaded into the hub cache
// (download.h), the snapshot's links and refs/<revision> written last, so
// that --model only ever resolves a complete snapshot.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/hub/hub_client.h"
#include "common/hub/repo_id.h"

namespace gemma3n::hub {

struct PullOptions {
  ModelRef ref;
  HubClientOptions client;
  std::string cache_dir;  // HubCacheDir() unless set
  bool terminal = false;  // a progress bar instead of log lines
};

struct PullResult {
  std::string commit;
  std::string snapshot_dir;
  int files = 0;       // in the snapshot
  int downloaded = 0;  // of them, fetched in this run
  int64_t bytes = 0;   // the snapshot's size
};

absl::StatusOr<PullResult> PullModel(const PullOptions& options);

}  // namespace gemma3n::hub
