// How a request wants its tokens generated, validated once. Every way in
// (the public gRPC API at the gateway, the text worker's internal API for a
// direct caller, the command-line tools) turns what it was given into
// GenerationSettings and calls ValidateGeneration; everything past that point
// holds a GenerationParams and never checks ranges again (the way
// text-generation-inference validates before anything reaches a shard).
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace gemma3n {

// What a caller gave, untrusted; std::nullopt = not given (which is not the
// same as zero: an explicit top_p of 0 is an error, an unset one is "off").
struct GenerationSettings {
  std::optional<int64_t> max_new_tokens;
  std::optional<double> temperature;
  std::optional<int64_t> top_k;
  std::optional<double> top_p;
  std::optional<double> min_p;
  std::optional<double> repetition_penalty;
  std::optional<uint64_t> seed;
};

// Checked sampling values, defaults applied. Order of application as in
// Hugging Face generation: repetition penalty -> (greedy if temperature == 0)
// -> temperature -> top-k -> top-p -> min-p -> seeded draw.
struct SamplingParams {
  float temperature = 0.0f;         // 0 = greedy
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off
  uint64_t seed = 0;
};

struct GenerationParams {
  int max_new_tokens = 0;  // >= 1
  SamplingParams sampling;
};

// The ranges (each an INVALID_ARGUMENT naming the field and the value):
//   max_new_tokens      [1, 2^31 - 1]; unset: default_max_new_tokens
//   temperature         finite, >= 0; 0 = greedy; below kGreedyBelowTemperature
//                       also greedy (dividing logits by it would overflow);
//                       unset: 1 when a filter is on (top_k > 0, top_p < 1
//                       or min_p > 0: it would otherwise be ignored), else 0
//   top_k               [0, 2^31 - 1]; 0 or unset = off
//   top_p               (0, 1]; unset = 1 = off
//   min_p               [0, 1]; unset = 0 = off
//   repetition_penalty  finite, > 0; unset = 1 = off
//   seed                any; unset = 0
// NaN fails every range. Floats must also fit a float.
absl::StatusOr<GenerationParams> ValidateGeneration(const GenerationSettings& settings,
                                                    int default_max_new_tokens);

// Checked sampling values as settings that give them back: every field set
// (ValidateGeneration(SettingsOf(p)) keeps p), for handing them on.
GenerationSettings SettingsOf(const SamplingParams& p);

// A prompt of `prompt_tokens` must be non-empty and leave room for at least
// one generated token in `context_limit`; the error says by how much to
// shorten it.
absl::Status CheckPromptLength(int64_t prompt_tokens, int64_t context_limit);

// Every id in [0, vocab_size); the error names the first that is not and
// its position.
absl::Status CheckTokenIds(absl::Span<const int> ids, int64_t vocab_size);

inline constexpr double kGreedyBelowTemperature = 1e-5;
// max_new_tokens when neither the request nor the operator sets one.
inline constexpr int kDefaultMaxNewTokens = 512;

}  // namespace gemma3n
