// gemma3n-decode-bench --suite: the llama-bench style measurements of one
// loaded model in one process: prompt processing (ppN: a fresh cache, an
// N-token prompt, tokens/s), generation (tgN: N tokens one at a time after a
// short prompt, tokens/s), time to first token, resident memory and the
// weight bytes each generated token reads. Each test is repeated and
// reported as mean +- sample standard deviation, after one warm-up.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {

struct SuiteOptions {
  std::vector<int64_t> prompt_lengths = {128, 512};  // ppN tests; the first also gives the TTFT
  int64_t generate = 64;                             // tgN
  // tgN again after this many tokens of context (llama-bench -d): each
  // depth is prefilled once, in 512-token chunks, and every repetition
  // decodes from a copy of that cache. Reports the KV-cache bytes there.
  std::vector<int64_t> depths;
  int64_t repetitions = 3;
  std::string format = "table";  // "table" (human), "tsv" (header + row) or "json" (one line)
  std::string label;             // model column: "full" or the profile's alias
  double load_seconds = 0;
};

// BOS and `length - 1` random text ids (seeded): below the per-layer
// vocabulary, so no id takes the multimodal embedders' path.
std::vector<int> MakePrompt(const TextConfig& c, int64_t length, uint32_t seed);

absl::Status RunSuite(const TextModel& model, const ForwardOptions& forward, WeightFormat weights,
                      const SuiteOptions& options);

}  // namespace gemma3n
