// MatFormer slicing profiles (Mix-n-Match): a named sub-model of a Gemma 3n
// checkpoint that keeps a prefix of each kept layer's FFN width and may skip
// whole layers. The 16 configurations Google published
// (google/gemma3n-slicing-configs) are built in; more can be read from a CSV
// in the same format:
//   name,# Layers,# Effective Params (B),MMLU PT accuracy,FFN Hidden Dims,Layers Skipped
// where the two list columns are Python list expressions ("[2_048 * 8, ...]").
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gemma3n {

struct SlicingProfile {
  std::string name;              // the CSV's name column, exactly
  std::string alias;             // short name: E4B, E2B, E2.54B-layer, E2.98B-block, ...
  std::vector<int> ffn_widths;   // one per KEPT layer
  std::vector<int> skipped;      // original layer indices, ascending
  double effective_params_b = 0; // as published (billions); 0 when unknown
};

// Rows of a slicing CSV. Errors name `source` and the row.
absl::StatusOr<std::vector<SlicingProfile>> ParseSlicingProfiles(const std::string& csv_text,
                                                                 const std::string& source);
absl::StatusOr<std::vector<SlicingProfile>> LoadSlicingProfiles(const std::string& csv_path);

// The 16 published profiles of Gemma 3n E4B.
const std::vector<SlicingProfile>& PublishedProfiles();

// By exact name or alias (case-sensitive). NotFound lists what exists.
absl::StatusOr<SlicingProfile> FindProfile(const std::vector<SlicingProfile>& profiles, const std::string& key);

// "Main model" -> "E4B", "Config for official E2B Model" -> "E2B",
// "Config for E2.54B (layer-level)" -> "E2.54B-layer"; otherwise the name.
std::string ProfileAlias(const std::string& name);

// "[2_048 * 8, 64 * 2, 7]" -> {16384, 128, 7}; "" -> {} (an empty cell).
absl::StatusOr<std::vector<int>> ParseIntListExpression(const std::string& text);

}  // namespace gemma3n
