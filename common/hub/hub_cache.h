// The Hugging Face hub cache, in the layout Python's huggingface_hub uses, so
// that either tool reuses what the other downloaded:
//
//   $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
//     models--ORG--NAME/
//       blobs/<etag>                 file contents, named by git sha1 or LFS sha256
//       blobs/<etag>.incomplete      a download in progress
//       snapshots/<commit>/<file>    relative symlinks to ../../blobs/<etag>
//       refs/<revision>              the commit the revision pointed to
//     .locks/models--ORG--NAME/<etag>.lock   held (flock) while a blob downloads
//
// Only paths and files here: nothing in this library talks to the network.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/hub/repo_id.h"

namespace gemma3n::hub {

// $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface.
std::string HfHomeDir();
// $HF_HUB_CACHE, else HfHomeDir()/hub.
std::string HubCacheDir();

// One model repo's folder of the cache. Names are validated by the caller
// (repo_id.h) before they reach these paths.
class RepoCache {
 public:
  RepoCache(const std::string& cache_dir, const std::string& repo);

  const std::string& dir() const { return dir_; }
  std::string BlobPath(const std::string& etag) const;
  std::string IncompletePath(const std::string& etag) const;  // BlobPath + ".incomplete"
  std::string SnapshotDir(const std::string& commit) const;
  std::string SnapshotPath(const std::string& commit, const std::string& file) const;
  std::string RefPath(const std::string& revision) const;
  // The lock file huggingface_hub takes (flock) while it downloads this blob.
  std::string LockPath(const std::string& etag) const;

  // The commit in refs/<revision>; NotFound when there is none.
  absl::StatusOr<std::string> ReadRef(const std::string& revision) const;
  absl::Status WriteRef(const std::string& revision, const std::string& commit) const;
  // snapshots/<commit>/<file> -> the relative path of blobs/<etag> (replacing
  // whatever was there).
  absl::Status LinkSnapshotFile(const std::string& commit, const std::string& file, const std::string& etag) const;
  // The snapshot already has `file` and it leads to an existing blob.
  bool HasSnapshotFile(const std::string& commit, const std::string& file) const;

 private:
  std::string locks_dir_;
  std::string dir_;
};

// The --model flag of every binary: an existing directory is used as is;
// otherwise ORG/NAME[@REVISION] is looked up in the hub cache, offline
// (refs/<revision> -> snapshots/<commit>, or the commit given) and its
// absolute snapshot directory returned; NotFound ("run: gemma3n pull ...")
// when it is not cached.
absl::StatusOr<std::string> ResolveModelDir(const std::string& model_flag);

}  // namespace gemma3n::hub
