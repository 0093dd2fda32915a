// The tiny test model's config.json and tokenizer, for the gateway's tests
// (no weights are read). A test failure when they cannot be read.
#pragma once

#include <memory>

#include "common/config/model_config.h"
#include "common/tokenizer/tokenizer.h"

namespace gemma3n::testing {

ModelConfig TinyModelConfig();
// With the config's multimodal special tokens, as the gateway loads it.
std::unique_ptr<Tokenizer> TinyModelTokenizer();

}  // namespace gemma3n::testing
