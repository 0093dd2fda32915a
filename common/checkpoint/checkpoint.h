// A Hugging Face model directory: config.json plus model.safetensors, or the
// sharded form model-XXXXX-of-YYYYY.safetensors with model.safetensors.index.json.
//
// A component opens the checkpoint with the name prefixes it owns (for the text
// core: "model.language_model."); tensors outside them are invisible, and shard
// files that hold none of them are never opened or mapped. That is Gemma 3n's
// conditional parameter loading: a text-only process never touches vision, audio
// or (in the text worker) per-layer-embedding bytes.
#pragma once

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/checkpoint/safetensors_file.h"
#include "common/checkpoint/tensor_info.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

struct CheckpointOptions {
  // Copy each tensor into process memory when first asked for (and drop its
  // page-cache pages), instead of reading it through the file mapping. For
  // weights read again and again (decoding) on machines whose page cache is
  // not a reliable home for many gigabytes; memory is not doubled.
  bool preload = false;
};

class Checkpoint {
 public:
  // `prefixes` empty = every tensor. Fails with a message naming the file for a
  // missing directory, missing/non-JSON config.json, missing weights, a corrupt
  // index or safetensors header.
  static absl::StatusOr<std::unique_ptr<Checkpoint>> Open(const std::string& dir,
                                                          std::vector<std::string> prefixes = {},
                                                          CheckpointOptions options = {});

  const std::string& dir() const { return dir_; }
  const nlohmann::json& config() const { return config_; }

  bool Has(const std::string& name) const;
  // NotFound naming the tensor and the directory.
  absl::StatusOr<TensorInfo> Get(const std::string& name) const;
  // Also checks the shape; InvalidArgument "tensor X in FILE has shape [a, b], expected [c, d]".
  absl::StatusOr<TensorInfo> Get(const std::string& name, const std::vector<int64_t>& shape) const;

  // Visible tensor names (those under the prefixes), sorted.
  std::vector<std::string> TensorNames() const;
  // The loader's own record: tensors handed out by Get() so far, and files mapped.
  std::set<std::string> AccessedTensors() const;
  std::vector<std::string> MappedFiles() const;

 private:
  Checkpoint() = default;
  bool Visible(const std::string& name) const;

  std::string dir_;
  std::vector<std::string> prefixes_;
  nlohmann::json config_;
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::map<std::string, TensorInfo> tensors_;  // visible tensors only
  CheckpointOptions options_;
  mutable std::mutex mu_;
  mutable std::set<std::string> accessed_;
  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  mutable std::map<std::string, std::unique_ptr<uint8_t, FreeDeleter>> copies_;  // preload mode
};

// Reads and parses a JSON file; errors name the file (and the parse position).
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);
// The parser ReadJsonFile uses, for bytes from anywhere; `source` names them
// in the error. Never throws.
absl::StatusOr<nlohmann::json> ParseJson(const std::string& source, absl::string_view text);

// model.safetensors.index.json (parsed): tensor name -> shard file name, every
// shard a plain file name inside the model directory. `index_path` names the
// file in errors.
absl::StatusOr<std::map<std::string, std::string>> ParseShardIndex(const std::string& index_path,
                                                                   const nlohmann::json& index);
// The same, read from the file (as `gemma3n pull` does to list the shards).
absl::StatusOr<std::map<std::string, std::string>> ReadWeightMap(const std::string& index_path);

}  // namespace gemma3n
