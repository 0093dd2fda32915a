// Which files of a repo a pull fetches: what the gateway, the workers and
// the tools read (config, tokenizer, processor configs, the weights), not
// the rest of the repo (README, other formats, ONNX exports...).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gemma3n::hub {

inline constexpr char kIndexFile[] = "model.safetensors.index.json";
inline constexpr char kSingleWeightsFile[] = "model.safetensors";

// The config, tokenizer and processor files `repo_files` has, and the index
// (or the single weights file). The shards the index names come after the
// index is read (ShardFiles). NotFound without config.json or weights.
absl::StatusOr<std::vector<std::string>> CheckpointFiles(const std::vector<std::string>& repo_files,
                                                         const std::string& repo);

// The shards a downloaded index names, each checked as a file name and
// present in `repo_files`.
absl::StatusOr<std::vector<std::string>> ShardFiles(const std::string& index_path,
                                                    const std::vector<std::string>& repo_files);

}  // namespace gemma3n::hub
