#include "tests/gateway/tiny_model.h"

#include "common/checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"

namespace gemma3n::testing {
namespace {

nlohmann::json TinyConfigJson() {
  auto json = ReadJsonFile(TinyModelDir() + "/config.json");
  EXPECT_TRUE(json.ok()) << json.status();
  return json.ok() ? *json : nlohmann::json::object();
}

}  // namespace

ModelConfig TinyModelConfig() {
  auto config = ParseModelConfig(TinyConfigJson());
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : ModelConfig{};
}

std::unique_ptr<Tokenizer> TinyModelTokenizer() {
  auto t = LoadModelTokenizer(TinyModelDir(), TinyConfigJson());
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *std::move(t) : nullptr;
}

}  // namespace gemma3n::testing
