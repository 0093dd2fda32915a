// Names that come from the user or from the Hugging Face hub and end up in
// cache paths and URLs: repo ids (`org/name`), revisions, file names, commit
// hashes and blob etags. Each is checked here, once, before any use.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace gemma3n::hub {

inline constexpr char kDefaultRevision[] = "main";

// A model on the hub at a revision (a branch, a tag or a commit hash).
struct ModelRef {
  std::string repo;      // "org/name"
  std::string revision;  // "main" unless given
};

// `org/name`: two parts of letters, digits, '-', '_' and '.', neither
// starting or ending with '-' or '.', without "--" or ".." (the cache folder
// joins the parts with "--"), at most 96 characters each.
absl::Status ValidateRepoId(const std::string& repo);
// Branch or tag names (may hold '/', as in refs/pr/1) and commit hashes.
absl::Status ValidateRevision(const std::string& revision);
// "org/name" or "org/name@revision".
absl::StatusOr<ModelRef> ParseModelRef(const std::string& text);
// A file of a repo (siblings, index shards): relative, '/'-separated, no
// empty, "." or ".." part, no backslash or control character.
absl::Status ValidateRepoFileName(const std::string& name);
// 40 lowercase hex digits: a git commit (or blob) hash.
bool IsCommitHash(const std::string& text);
// 64 lowercase hex digits: the sha256 the hub names an LFS object by.
bool IsSha256(const std::string& text);
// A blob name from ETag / X-Linked-Etag: a git sha1 or an LFS sha256.
absl::Status ValidateEtag(const std::string& etag);

}  // namespace gemma3n::hub
