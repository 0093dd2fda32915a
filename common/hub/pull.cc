#include "common/hub/pull.h"

#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/hub/download.h"
#include "common/hub/hub_cache.h"
#include "common/hub/model_files.h"
#include "common/hub/progress.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n::hub {
namespace {

class Puller {
 public:
  Puller(const PullOptions& options, const std::string& commit)
      : options_(options), client_(options.client), cache_(options.cache_dir, options.ref.repo), commit_(commit) {}

  const RepoCache& cache() const { return cache_; }
  PullResult& result() { return result_; }

  // Every file of `files` in the snapshot: those already linked are kept,
  // the others' metadata asked for, then missing blobs downloaded.
  absl::Status FetchAll(const std::vector<std::string>& files) {
    std::vector<FileMetadata> wanted;
    for (const std::string& file : files) {
      RETURN_IF_ERROR(ValidateRepoFileName(file));
      ++result_.files;
      if (cache_.HasSnapshotFile(commit_, file)) {
        result_.bytes += SnapshotFileSize(file);
        spdlog::debug("{}: already in {}", file, cache_.SnapshotDir(commit_));
        continue;
      }
      ASSIGN_OR_RETURN(FileMetadata meta, client_.GetFileMetadata(options_.ref.repo, commit_, file));
      result_.bytes += meta.size;
      wanted.push_back(std::move(meta));
    }
    int64_t to_download = 0;
    int downloads = 0;
    for (const FileMetadata& meta : wanted) {
      if (BlobComplete(cache_, meta)) continue;
      to_download += meta.size - PartialBytes(cache_, meta);
      ++downloads;
    }
    TransferProgress progress(to_download, downloads, options_.terminal);
    for (const FileMetadata& meta : wanted) {
      if (!BlobComplete(cache_, meta)) {
        RETURN_IF_ERROR(DownloadBlob(client_, cache_, meta, progress));
        ++result_.downloaded;
      }
      RETURN_IF_ERROR(cache_.LinkSnapshotFile(commit_, meta.file, meta.etag));
    }
    if (downloads > 0) progress.Finish();
    return absl::OkStatus();
  }

 private:
  int64_t SnapshotFileSize(const std::string& file) const {
    std::error_code error;
    const auto size = std::filesystem::file_size(cache_.SnapshotPath(commit_, file), error);
    return error ? 0 : static_cast<int64_t>(size);
  }

  const PullOptions& options_;
  const HubClient client_;
  const RepoCache cache_;
  const std::string commit_;
  PullResult result_;
};

}  // namespace

absl::StatusOr<PullResult> PullModel(const PullOptions& options) {
  RETURN_IF_ERROR(ValidateRepoId(options.ref.repo));
  RETURN_IF_ERROR(ValidateRevision(options.ref.revision));
  const HubClient client(options.client);
  ASSIGN_OR_RETURN(const ModelInfo info, client.GetModelInfo(options.ref));
  spdlog::info("{} at {} is commit {} ({} files in the repo)", options.ref.repo, options.ref.revision, info.commit,
               info.files.size());
  ASSIGN_OR_RETURN(const std::vector<std::string> files, CheckpointFiles(info.files, options.ref.repo));

  Puller puller(options, info.commit);
  RETURN_IF_ERROR(puller.FetchAll(files));
  if (files.back() == kIndexFile) {
    ASSIGN_OR_RETURN(const std::vector<std::string> shards,
                     ShardFiles(puller.cache().SnapshotPath(info.commit, kIndexFile), info.files));
    RETURN_IF_ERROR(puller.FetchAll(shards));
  }
  if (options.ref.revision != info.commit) RETURN_IF_ERROR(puller.cache().WriteRef(options.ref.revision, info.commit));
  PullResult result = puller.result();
  result.commit = info.commit;
  result.snapshot_dir = puller.cache().SnapshotDir(info.commit);
  return result;
}

}  // namespace gemma3n::hub
