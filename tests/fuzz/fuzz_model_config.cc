// config.json bytes -> ParseJson -> ParseModelConfig (every process reads it
// first) and the multimodal special tokens the tokenizer takes from it.
#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const auto json = ParseJson("config.json", absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.ok()) return 0;
  (void)MultimodalSpecialTokens(*json);
  const auto config = ParseModelConfig(*json);
  if (!config.ok()) return 0;
  const TextConfig& t = config->text;
  if (static_cast<int>(t.intermediate_size.size()) != t.num_hidden_layers ||
      static_cast<int>(t.layer_types.size()) != t.num_hidden_layers ||
      static_cast<int>(t.activation_sparsity_pattern.size()) != t.num_hidden_layers) {
    fuzz::Violated("per-layer lists do not have one entry per layer");
  }
  return 0;
}
