// The parts of the Hugging Face hub API a pull needs, over libcurl: a
// model's file list at a revision, a file's metadata (blob etag, size, where
// its bytes are) and ranged downloads of those bytes. HTTP answers become
// statuses a user can act on (a gated repo names the licence page and the
// token; 404 names the repo and revision); transient ones are retried.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/hub/repo_id.h"
#include "common/cli/retry.h"

namespace gemma3n::hub {

inline constexpr char kDefaultEndpoint[] = "https://huggingface.co";

struct HubClientOptions {
  std::string endpoint = kDefaultEndpoint;  // no trailing '/'
  std::string token;                        // empty: anonymous
  RetryPolicy retry;
};

struct ModelInfo {
  std::string commit;               // the revision's commit hash
  std::vector<std::string> files;   // siblings[].rfilename, unvalidated
};

struct FileMetadata {
  std::string repo;
  std::string file;
  std::string commit;  // X-Repo-Commit
  std::string etag;    // the blob name: LFS sha256 or git sha1, validated
  int64_t size = 0;    // X-Linked-Size or Content-Length
  std::string url;     // where the bytes are (the CDN for LFS files)
  bool IsLfs() const { return IsSha256(etag); }
};

class HubClient {
 public:
  explicit HubClient(HubClientOptions options);

  const HubClientOptions& options() const { return options_; }
  // GET {endpoint}/api/models/{repo}/revision/{revision}.
  absl::StatusOr<ModelInfo> GetModelInfo(const ModelRef& ref) const;
  // HEAD {endpoint}/{repo}/resolve/{commit}/{file}, not following the
  // redirect to the CDN (only relative ones, as for a renamed repo).
  absl::StatusOr<FileMetadata> GetFileMetadata(const std::string& repo, const std::string& commit,
                                               const std::string& file) const;
  // One GET of meta.url from byte `offset` on; the bytes go to `on_bytes`
  // (which may refuse them). `restarted` is called when the server ignores
  // the range and sends the whole file again. One attempt: the caller
  // retries (the offset moves on).
  absl::Status Fetch(const FileMetadata& meta, int64_t offset,
                     const std::function<absl::Status(const char*, size_t)>& on_bytes,
                     const std::function<absl::Status()>& restarted) const;

 private:
  std::string TokenFor(const std::string& url) const;

  HubClientOptions options_;
};

}  // namespace gemma3n::hub
