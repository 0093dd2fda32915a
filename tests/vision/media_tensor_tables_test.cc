// The media towers' tensor tables (vision_tensors.h; the audio tower's in
// conformer_block.h and subsample_conv.h; the embedders' in
// multimodal_embedder.h) against the bundled checkpoint and each loader's own
// record of what it read.
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audio_worker/encoder/audio_encoder.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "vision_worker/encoder/vision_encoder.h"

namespace gemma3n {
namespace {

// Loads `Tower` from the tiny model; expects `table(tower, vocab, text
// hidden)` (its TensorShapes, with the vocabulary of config.json's
// `modality_config`) to be exactly the tensors its checkpoint shows (names
// and shapes), each once, and the loader to have read them all.
template <class Tower, class Table>
void ExpectTableIsTheCheckpointAndAllOfItIsRead(const std::string& modality_config, Table table) {
  auto tower = Tower::Load(testing::TinyModelDir());
  ASSERT_TRUE(tower.ok()) << tower.status();
  const Checkpoint& ckpt = (*tower)->checkpoint();
  auto vocab = ParseEmbedderVocab(ckpt.config()[modality_config]);
  ASSERT_TRUE(vocab.ok()) << vocab.status();
  std::map<std::string, std::vector<int64_t>> expected, listed;
  std::set<std::string> names;
  for (const std::string& name : ckpt.TensorNames()) {
    expected[name] = ckpt.Get(name)->shape;
    names.insert(name);
  }
  for (const NamedShape& t : table(**tower, *vocab, ckpt.config()["text_config"]["hidden_size"].get<int>())) {
    EXPECT_TRUE(listed.emplace(t.name, t.shape).second) << t.name << " listed twice";
  }
  EXPECT_EQ(listed, expected);
  EXPECT_EQ(ckpt.AccessedTensors(), names);
}

TEST(MediaTensorTablesTest, VisionTowerListsItsCheckpointAndLoadsAllOfIt) {
  ExpectTableIsTheCheckpointAndAllOfItIsRead<VisionEncoder>(
      "vision_config", [](const VisionEncoder& tower, const EmbedderVocab& vocab, int text_hidden) {
        return VisionTowerTensorShapes(tower.spec(), vocab, text_hidden);
      });
}

TEST(MediaTensorTablesTest, AudioTowerListsItsCheckpointAndLoadsAllOfIt) {
  ExpectTableIsTheCheckpointAndAllOfItIsRead<AudioEncoder>(
      "audio_config", [](const AudioEncoder& tower, const EmbedderVocab& vocab, int text_hidden) {
        return AudioTowerTensorShapes(tower.config(), vocab, text_hidden);
      });
}

}  // namespace
}  // namespace gemma3n
