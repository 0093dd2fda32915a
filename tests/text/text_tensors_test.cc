// The text tensor table (text_tensors.h) against the bundled checkpoint, the
// loader's own record of what it read, and itself.
#include "text_worker/model/text_tensors.h"

#include <memory>
#include <set>
#include <string>
#include <type_traits>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/matformer/elastic_plan.h"

namespace gemma3n {
namespace {

struct Tiny {
  std::unique_ptr<Checkpoint> ckpt;
  TextConfig config;
  std::vector<LayerSpec> specs;
};

Tiny OpenTiny() {
  Tiny t;
  auto ckpt = Checkpoint::Open(testing::TinyModelDir(), {kTextPrefix});
  EXPECT_TRUE(ckpt.ok()) << ckpt.status();
  t.ckpt = *std::move(ckpt);
  auto config = ParseModelConfig(t.ckpt->config());
  EXPECT_TRUE(config.ok()) << config.status();
  t.config = config->text;
  t.specs = BuildLayerSpecs(t.config);
  return t;
}

// The mapped-tensor record is the table's held tensors: nothing more is read
// (not the KV-shared layers' k/v, not the per-layer table), nothing less.
TEST(TextTensorTableTest, LoadingReadsExactlyTheHeldTensors) {
  Tiny tiny = OpenTiny();
  auto weights = LoadTextWeights(*tiny.ckpt, tiny.config, tiny.specs);
  ASSERT_TRUE(weights.ok()) << weights.status();
  std::set<std::string> held, not_held;
  ASSERT_TRUE(ForEachTextTensor(tiny.config, tiny.specs, nullptr, [&](const TextTensorRef& t) {
                (t.loaded ? held : not_held).insert(t.name);
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(tiny.ckpt->AccessedTensors(), held);
  EXPECT_TRUE(not_held.count(std::string(kTextPrefix) + "embed_tokens_per_layer.weight"));
  ASSERT_GT(tiny.config.num_kv_shared_layers, 0);
  const int shared = tiny.config.num_hidden_layers - 1;
  EXPECT_TRUE(not_held.count(absl::StrCat(kTextPrefix, "layers.", shared, ".self_attn.k_proj.weight")));
  EXPECT_EQ(weights->layers[shared].attn.k_proj.rows, 0);
}

// Each held tensor has a field of its own, of the kind its storage says.
TEST(TextTensorTableTest, EveryHeldTensorHasItsOwnSlotOfItsStorage) {
  Tiny tiny = OpenTiny();
  TextWeights w;
  SizeTextWeights(tiny.config, w);
  std::set<const void*> slots;
  int visited = 0;
  ASSERT_TRUE(ForEachTextTensor(tiny.config, tiny.specs, &w, [&](const TextTensorRef& t) {
                ++visited;
                if (!t.loaded) {
                  EXPECT_TRUE(std::holds_alternative<std::monostate>(t.slot)) << t.name;
                  return absl::OkStatus();
                }
                const bool matrix = std::holds_alternative<WeightMatrix*>(t.slot);
                EXPECT_EQ(matrix, t.def.storage != TensorStorage::kF32) << t.name;
                EXPECT_TRUE(matrix || std::holds_alternative<std::vector<float>*>(t.slot)) << t.name;
                const void* field = std::visit([](auto p) -> const void* {
                  if constexpr (std::is_same_v<decltype(p), std::monostate>) {
                    return nullptr;
                  } else {
                    return p;
                  }
                }, t.slot);
                EXPECT_TRUE(slots.insert(field).second) << t.name << " shares its field with another tensor";
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(visited, static_cast<int>(TextTensorShapes(tiny.config).size()));
}

// The MatFormer Lab's count: every text tensor of the checkpoint but the two
// embedding tables.
TEST(TextTensorTableTest, EffectiveParametersCountTheCheckpointWithoutEmbeddings) {
  Tiny tiny = OpenTiny();
  int64_t expected = 0;
  for (const std::string& name : tiny.ckpt->TensorNames()) {
    if (name == std::string(kTextPrefix) + "embed_tokens.weight" ||
        name == std::string(kTextPrefix) + "embed_tokens_per_layer.weight") {
      continue;
    }
    expected += tiny.ckpt->Get(name)->NumElements();
  }
  EXPECT_EQ(EffectiveParameters(tiny.config), expected);
}

}  // namespace
}  // namespace gemma3n
