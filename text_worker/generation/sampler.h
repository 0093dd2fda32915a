// Next-token selection from logits. Order as in Hugging Face generation:
// repetition penalty -> (greedy if temperature == 0) -> temperature -> top-k
// -> top-p -> min-p -> draw from the renormalised distribution with a seeded
// generator, so a given seed reproduces the same tokens. The parameters come
// checked from ValidateGeneration (common/request/generation_params.h).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "common/request/generation_params.h"

namespace gemma3n {

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
