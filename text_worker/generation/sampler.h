// Next-token selection from logits. Order as in Hugging Face generation:
// repetition penalty -> (greedy if temperature == 0) -> temperature -> top-k
// -> top-p -> min-p -> draw from the renormalised distribution with a seeded
// generator, so a given seed reproduces the same tokens.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"

namespace gemma3n {

struct SamplingParams {
  float temperature = 0.0f;         // 0 = greedy
  int top_k = 0;                    // 0 = off
  float top_p = 1.0f;               // 1 = off
  float min_p = 0.0f;               // 0 = off
  float repetition_penalty = 1.0f;  // 1 = off
  uint64_t seed = 0;
};

// InvalidArgument naming the field for values outside their ranges.
absl::Status ValidateSamplingParams(const SamplingParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

  // logits [vocab]; history = the tokens seen so far (prompt and generated),
  // for the repetition penalty.
  int Sample(absl::Span<const float> logits, absl::Span<const int> history);

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<float> work_;
  std::vector<int> order_;
};

}  // namespace gemma3n
