// The decoder's structure derived from the real E2B/E4B configs: attention
// pattern, KV-sharing sources, sparsity, RoPE bases; and config validation.
#include <cstring>
#include <map>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "common/config/json_fields.h"
#include "common/config/model_config.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/model/layer_spec.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {
namespace {

ModelConfig Load(const std::string& name) {
  auto j = ReadJsonFile(testing::TestDataPath("real-configs/" + name));
  EXPECT_TRUE(j.ok()) << j.status();
  auto c = ParseModelConfig(*j);
  EXPECT_TRUE(c.ok()) << c.status();
  return *c;
}

TEST(LayerSpecTest, E2BSharesKvFromLayers18And19) {
  const ModelConfig c = Load("gemma-3n-E2B.config.json");
  EXPECT_EQ(c.eos_token_ids, (std::vector<int>{1, 106}));
  EXPECT_EQ(c.audio.vocab_offset, 262272);
  EXPECT_EQ(c.text.rope_theta, 1e6);            // full-attention layers
  EXPECT_EQ(c.text.rope_local_base_freq, 1e4);  // sliding-window layers
  const auto specs = BuildLayerSpecs(c.text);
  ASSERT_EQ(specs.size(), 30u);
  for (const LayerSpec& s : specs) {
    EXPECT_EQ(s.attention == AttentionType::kFull, s.index % 5 == 4) << s.index;
    EXPECT_EQ(s.kv_shared, s.index >= 20) << s.index;
    if (s.kv_shared) {
      EXPECT_EQ(s.kv_source, s.attention == AttentionType::kFull ? 19 : 18) << s.index;
    }
    EXPECT_EQ(s.activation_sparsity > 0, s.index < 10);
    EXPECT_EQ(s.ffn_width, 8192);
  }
  EXPECT_NEAR(specs[0].sparsity_std_multiplier, 1.6448536, 1e-6);  // Phi^-1(0.95)
}

TEST(LayerSpecTest, E4BSharesKvFromLayers18And19) {
  const ModelConfig c = Load("gemma-3n-E4B.config.json");
  const auto specs = BuildLayerSpecs(c.text);
  ASSERT_EQ(specs.size(), 35u);
  for (const LayerSpec& s : specs) {
    EXPECT_EQ(s.kv_shared, s.index >= 20) << s.index;
    if (s.kv_shared) {
      EXPECT_EQ(s.kv_source, s.attention == AttentionType::kFull ? 19 : 18) << s.index;
    }
  }
}

TEST(ModelConfigTest, BadConfigsNameTheKey) {
  auto j = ReadJsonFile(testing::TinyModelDir() + "/config.json");
  ASSERT_TRUE(j.ok());
  auto broken = *j;
  broken["text_config"].erase("hidden_size");
  EXPECT_NE(ParseModelConfig(broken).status().message().find("hidden_size"), std::string::npos);
  broken = *j;
  broken["text_config"]["layer_types"] = {"sliding_attention"};
  EXPECT_NE(ParseModelConfig(broken).status().message().find("layer_types"), std::string::npos);
  broken = *j;
  broken["text_config"]["layer_types"][0] = "linear_attention";
  EXPECT_NE(ParseModelConfig(broken).status().message().find("linear_attention"), std::string::npos);
  broken = *j;
  broken["text_config"]["intermediate_size"] = {1, 2};
  EXPECT_NE(ParseModelConfig(broken).status().message().find("intermediate_size"), std::string::npos);
  broken = *j;
  broken["text_config"]["max_position_embeddings"] = 0;  // no room for a token
  EXPECT_NE(ParseModelConfig(broken).status().message().find("max_position_embeddings"), std::string::npos);
  broken = *j;
  broken["model_type"] = 3;  // a key of the wrong type: an error, not an exception
  EXPECT_NE(ParseModelConfig(broken).status().message().find("model_type"), std::string::npos);
  broken = *j;
  broken["text_config"]["rope_scaling"] = {{"rope_type", "yarn"}};
  EXPECT_EQ(ParseModelConfig(broken).status().code(), absl::StatusCode::kUnimplemented);
  broken = *j;
  broken["model_type"] = "gemma3";
  EXPECT_NE(ParseModelConfig(broken).status().message().find("gemma3"), std::string::npos);
  broken = *j;
  broken["text_config"]["num_kv_shared_layers"] = 8;
  EXPECT_FALSE(ParseModelConfig(broken).ok());
  EXPECT_FALSE(ParseModelConfig(nlohmann::json::array()).ok());
  // An int intermediate_size applies to every layer.
  auto ok = *j;
  ok["text_config"]["intermediate_size"] = 64;
  auto parsed = ParseModelConfig(ok);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->text.intermediate_size, std::vector<int>(8, 64));
}

// Values found by fuzzing config.json (tests/fuzz/corpus/model_config): each
// is an error or its default, never an exception, undefined behaviour or
// gigabytes of per-layer lists.
TEST(ModelConfigTest, FuzzFindingsAreErrorsOrDefaults) {
  auto j = ReadJsonFile(testing::TinyModelDir() + "/config.json");
  ASSERT_TRUE(j.ok());
  const auto message = [](const nlohmann::json& config) { return std::string(ParseModelConfig(config).status().message()); };
  auto broken = *j;
  broken["text_config"]["num_hidden_layers"] = 2147483647;
  EXPECT_NE(message(broken).find("num_hidden_layers"), std::string::npos);
  broken = *j;
  broken["text_config"]["intermediate_size"] = -5;
  EXPECT_NE(message(broken).find("intermediate_size"), std::string::npos);
  broken = *j;
  broken["text_config"]["rope_scaling"] = 7;
  EXPECT_NE(message(broken).find("rope_scaling"), std::string::npos);
  broken = *j;
  broken["vision_soft_tokens_per_image"] = 0;
  EXPECT_NE(message(broken).find("vision_soft_tokens_per_image"), std::string::npos);
  broken = *j;
  broken["text_config"]["rope_parameters"] = {{"full_attention", {{"rope_type", 3}, {"rope_theta", "big"}}}};
  auto parsed = ParseModelConfig(broken);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->text.rope_theta, 1e6);  // a theta of the wrong type keeps the default
  broken = *j;
  broken["text_config"]["max_position_embeddings"] = 1e20;  // no int holds it: the default
  parsed = ParseModelConfig(broken);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->text.max_position_embeddings, kGemma3nContextTokens);
  const auto overflow = ParseJson("config.json", R"({"x": 1e999})");
  EXPECT_EQ(overflow.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(overflow.status().message().find("config.json"), std::string::npos);
}

// 2^63 is the double INT64_MAX rounds to; its cast to int64 is undefined
// (found by fuzzing the HTTP API's integer fields, tests/fuzz/corpus/http_request).
TEST(JsonFieldsTest, FitsInStopsBelowTheFirstValueOutOfRange) {
  EXPECT_FALSE(FitsIn<int64_t>(nlohmann::json(9223372036854775808.0)));
  EXPECT_TRUE(FitsIn<int64_t>(nlohmann::json(9223372036854774784.0)));  // the largest double below 2^63
  EXPECT_FALSE(FitsIn<int>(nlohmann::json(2147483648.0)));
  EXPECT_TRUE(FitsIn<int>(nlohmann::json(2147483647.0)));
  EXPECT_FALSE(FitsIn<int64_t>(nlohmann::json(1e300)));
}

}  // namespace
}  // namespace gemma3n

namespace gemma3n {
namespace {

// The tensor list used to write random checkpoints is exactly what a real
// checkpoint of the config holds (names and shapes).
TEST(TextTensorShapesTest, MatchTheBundledCheckpoint) {
  auto ckpt = Checkpoint::Open(testing::TinyModelDir(), {"model.language_model."});
  ASSERT_TRUE(ckpt.ok());
  auto config = ParseModelConfig((*ckpt)->config());
  ASSERT_TRUE(config.ok());
  std::map<std::string, std::vector<int64_t>> expected;
  for (const auto& name : (*ckpt)->TensorNames()) expected[name] = (*ckpt)->Get(name)->shape;
  std::map<std::string, std::vector<int64_t>> listed;
  for (const NamedShape& t : TextTensorShapes(config->text)) listed[t.name] = t.shape;
  EXPECT_EQ(listed, expected);
}

TEST(CheckpointPreloadTest, PreloadedTensorsAreCopiesWithTheSameBytes) {
  CheckpointOptions preload;
  preload.preload = true;
  auto mapped = Checkpoint::Open(testing::TinyModelDir(), {"model.language_model."});
  auto copied = Checkpoint::Open(testing::TinyModelDir(), {"model.language_model."}, preload);
  ASSERT_TRUE(mapped.ok() && copied.ok());
  const std::string name = "model.language_model.layers.3.mlp.down_proj.weight";
  auto a = (*mapped)->Get(name);
  auto b = (*copied)->Get(name);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->data, b->data);
  ASSERT_EQ(a->nbytes, b->nbytes);
  EXPECT_EQ(std::memcmp(a->data, b->data, a->nbytes), 0);
  EXPECT_EQ((*copied)->Get(name)->data, b->data);  // copied once
}

}  // namespace
}  // namespace gemma3n
