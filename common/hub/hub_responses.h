// What the hub's answers mean, apart from fetching them (hub_client.cc):
// the model-info JSON -> the commit and file list, a file's HEAD response
// -> its metadata. Every byte here comes from the network, so these are
// kept free of I/O for tests/fuzz/fuzz_hub_response.cc.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/hub/http.h"
#include "common/hub/hub_client.h"

namespace gemma3n::hub {

// The body of GET /api/models/{repo}/revision/{rev} (`url`, for messages).
absl::StatusOr<ModelInfo> ParseModelInfo(const std::string& body, const std::string& url);

// The (last, not followed) answer to HEAD `url` for `file` of `repo` at
// `commit`: X-Repo-Commit, X-Linked-Etag / ETag, X-Linked-Size /
// Content-Length and, for a redirect, Location.
absl::StatusOr<FileMetadata> ParseFileMetadata(const HttpResponse& response, const std::string& repo,
                                               const std::string& commit, const std::string& file,
                                               const std::string& url);

}  // namespace gemma3n::hub
