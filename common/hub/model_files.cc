#include "common/hub/model_files.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/checkpoint.h"
#include "common/hub/repo_id.h"
#include "common/status/status_macros.h"

namespace gemma3n::hub {
namespace {

constexpr uintmax_t kMaxIndexBytes = 64u << 20;  // a real index is ~100 KB

constexpr const char* kConfigFiles[] = {
    "config.json",           "generation_config.json", "preprocessor_config.json", "processor_config.json",
    "tokenizer.json",        "tokenizer.model",        "tokenizer_config.json",    "special_tokens_map.json",
    "chat_template.jinja",   "chat_template.json",
};

bool Has(const std::vector<std::string>& files, const std::string& name) {
  return std::find(files.begin(), files.end(), name) != files.end();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> CheckpointFiles(const std::vector<std::string>& repo_files,
                                                         const std::string& repo) {
  if (!Has(repo_files, "config.json")) {
    return absl::NotFoundError(absl::StrCat(repo, " has no config.json: not a Hugging Face transformers checkpoint"));
  }
  std::vector<std::string> out;
  for (const char* name : kConfigFiles) {
    if (Has(repo_files, name)) out.push_back(name);
  }
  if (Has(repo_files, kIndexFile)) {
    out.push_back(kIndexFile);
  } else if (Has(repo_files, kSingleWeightsFile)) {
    out.push_back(kSingleWeightsFile);
  } else {
    return absl::NotFoundError(
        absl::StrCat(repo, " has no safetensors weights (", kIndexFile, " or ", kSingleWeightsFile, ")"));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ShardFiles(const std::string& index_path,
                                                    const std::vector<std::string>& repo_files) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(index_path, error);
  if (error || size > kMaxIndexBytes) {
    return absl::DataLossError(absl::StrCat(index_path, " is missing or larger than 64 MB: not a safetensors index"));
  }
  ASSIGN_OR_RETURN(const auto weight_map, ReadWeightMap(index_path));
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : weight_map) shards.insert(shard);
  for (const std::string& shard : shards) {
    RETURN_IF_ERROR(ValidateRepoFileName(shard));
    if (!Has(repo_files, shard)) {
      return absl::NotFoundError(absl::StrCat(index_path, " names the shard ", shard, ", which the repo does not have"));
    }
  }
  return std::vector<std::string>(shards.begin(), shards.end());
}

}  // namespace gemma3n::hub
