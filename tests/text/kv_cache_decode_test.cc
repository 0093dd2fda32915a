// Incremental decoding through the KV cache (ring buffers for sliding layers,
// shared layers reading their source's cache) gives the logits of one full
// forward, including well past the sliding window, while a sliding layer holds
// only its window's rows; bad input leaves the cache untouched.
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TinyModelDir;

class KvCacheDecodeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = TextModel::Load(TinyModelDir());
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(m).value().release();
  }
  static std::vector<float> FullLogits(const std::vector<int>& ids) {
    auto cache = model_->NewCache(ids.size());
    auto out = model_->Forward(*cache, ids, LogitsFor::kAll);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->logits : std::vector<float>{};
  }
  // Runs ids in chunks of `chunk` tokens, collecting every position's logits.
  static std::vector<float> ChunkedLogits(const std::vector<int>& ids, size_t chunk) {
    auto cache = model_->NewCache(ids.size());
    std::vector<float> all;
    for (size_t begin = 0; begin < ids.size(); begin += chunk) {
      const size_t n = std::min(chunk, ids.size() - begin);
      auto out = model_->Forward(*cache, absl::MakeConstSpan(ids).subspan(begin, n), LogitsFor::kAll);
      EXPECT_TRUE(out.ok()) << out.status();
      if (!out.ok()) return {};
      all.insert(all.end(), out->logits.begin(), out->logits.end());
    }
    EXPECT_EQ(cache->length(), static_cast<int64_t>(ids.size()));
    return all;
  }
  static std::vector<int> RandomTextIds(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> id(10, 509);
    std::vector<int> ids = {2};
    while (static_cast<int>(ids.size()) < n) ids.push_back(id(rng));
    return ids;
  }
  static TextModel* model_;
};
TextModel* KvCacheDecodeTest::model_ = nullptr;

TEST_F(KvCacheDecodeTest, TokenByTokenMatchesGoldenPastTheSlidingWindow) {
  // text_long has 41 tokens, more than 5 sliding windows of 8.
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::vector<int> prompt = ids.Ids("text_long.input_ids");
  ASSERT_GT(prompt.size(), 3u * model_->text_config().sliding_window);
  const std::vector<float> decoded = ChunkedLogits(prompt, 1);
  const float diff = MaxAbsDiff(decoded, golden.F32("text_long.logits"));
  std::printf("[golden] text_long via KV-cache decode: max|logits diff| = %.3g\n", diff);
  EXPECT_LE(diff, 1e-3f);
}

TEST_F(KvCacheDecodeTest, EveryChunkingGivesTheFullForwardLogits) {
  const std::vector<int> ids = RandomTextIds(100, 7);
  const std::vector<float> full = FullLogits(ids);
  // Chunk sizes change the summation order (dot kernel vs sgemm blocks):
  // f32 rounding of the order of the golden's own f32-vs-f64 spread (~2e-4).
  // A cache bug (a wrong ring slot, a lost row) moves logits by O(1).
  for (size_t chunk : {1u, 3u, 7u, 8u, 9u, 33u}) {
    EXPECT_LE(MaxAbsDiff(ChunkedLogits(ids, chunk), full), 1e-3f) << "chunk " << chunk;
  }
}

TEST_F(KvCacheDecodeTest, SlidingLayersKeepARingOfTheWindowAndStillGiveTheFullLogits) {
  // 100 tokens decoded one by one into a cache sized for 100: every sliding
  // layer's store must be a ring of exactly sliding_window rows (position p
  // reuses the row of p - window) while the logits stay those of the full
  // forward. A cache that kept every row, or a larger ring, gives the same
  // logits (attention masks the window anyway) but fails the memory figures.
  const TextConfig& config = model_->text_config();
  const int64_t window = config.sliding_window, n = 100;
  ASSERT_GT(n, 3 * window);
  const std::vector<int> ids = RandomTextIds(static_cast<int>(n), 11);
  auto cache = model_->NewCache(n);
  std::vector<float> decoded;
  for (int64_t p = 0; p < n; ++p) {
    auto out = model_->Forward(*cache, absl::MakeConstSpan(ids).subspan(p, 1), LogitsFor::kAll);
    ASSERT_TRUE(out.ok()) << out.status();
    decoded.insert(decoded.end(), out->logits.begin(), out->logits.end());
  }
  EXPECT_LE(MaxAbsDiff(decoded, FullLogits(ids)), 1e-3f);

  int rings = 0, full = 0;
  for (int layer = 0; layer < config.num_hidden_layers; ++layer) {
    if (!cache->HasStore(layer)) continue;  // KV-shared: reads its source's store
    if (config.layer_types[layer] != AttentionType::kSliding) {
      EXPECT_FALSE(cache->IsRing(layer)) << "layer " << layer;
      EXPECT_EQ(cache->OldestRetained(layer), 0) << "layer " << layer;
      ++full;
      continue;
    }
    ++rings;
    EXPECT_TRUE(cache->IsRing(layer)) << "sliding layer " << layer;
    EXPECT_EQ(cache->OldestRetained(layer), n - window) << "layer " << layer;
    // The rows of all 100 positions live in `window` distinct places.
    std::set<const float*> rows;
    for (int64_t p = 0; p < n; ++p) rows.insert(cache->Key(layer, p));
    EXPECT_EQ(static_cast<int64_t>(rows.size()), window) << "layer " << layer;
    EXPECT_EQ(cache->Key(layer, n - 1), cache->Key(layer, n - 1 - window)) << "layer " << layer;
  }
  ASSERT_GT(rings, 0);
  ASSERT_GT(full, 0);
  // Memory: rings hold `window` rows, full layers all n (grown up to max_tokens).
  const int64_t row_bytes = static_cast<int64_t>(config.num_key_value_heads) * config.head_dim * sizeof(float);
  const int64_t expected = 2 * row_bytes * (rings * window + full * n);  // K and V
  std::printf("[kv cache] %lld tokens: %d rings of %lld rows, %d full stores; %lld bytes (every row kept: %lld)\n",
              static_cast<long long>(n), rings, static_cast<long long>(window), full,
              static_cast<long long>(cache->bytes()), static_cast<long long>(2 * row_bytes * (rings + full) * n));
  EXPECT_EQ(cache->bytes(), expected);
}

TEST_F(KvCacheDecodeTest, SharedLayersReallyReadTheSourceCache) {
  // Corrupting nothing but the order of the K/V a shared layer sees must move
  // the logits: run two sequences that differ only in the first token; the
  // last-position logits must differ (information flows through the caches).
  std::vector<int> a = RandomTextIds(30, 3), b = a;
  b[1] = a[1] == 100 ? 101 : 100;
  const std::vector<float> la = ChunkedLogits(a, 1), lb = ChunkedLogits(b, 1);
  const size_t vocab = model_->text_config().vocab_size;
  std::vector<float> last_a(la.end() - vocab, la.end()), last_b(lb.end() - vocab, lb.end());
  EXPECT_GT(MaxAbsDiff(last_a, last_b), 1e-3f);
}

TEST_F(KvCacheDecodeTest, BadInputLeavesTheCacheUnchanged) {
  auto cache = model_->NewCache(10);
  ASSERT_TRUE(model_->Forward(*cache, {2, 100, 200}, LogitsFor::kLast).ok());
  ASSERT_EQ(cache->length(), 3);

  auto out = model_->Forward(*cache, {5, 100000}, LogitsFor::kLast);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("100000"), std::string::npos) << out.status();
  EXPECT_EQ(cache->length(), 3);

  out = model_->Forward(*cache, {-1}, LogitsFor::kLast);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);

  std::vector<int> too_many(8, 100);
  out = model_->Forward(*cache, too_many, LogitsFor::kLast);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(cache->length(), 3);

  out = model_->Forward(*cache, std::vector<int>{}, LogitsFor::kLast);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);

  // The cache still works and gives the same result as a fresh sequence.
  auto next = model_->Forward(*cache, {300}, LogitsFor::kLast);
  ASSERT_TRUE(next.ok());
  const std::vector<float> full = FullLogits({2, 100, 200, 300});
  std::vector<float> last(full.end() - model_->text_config().vocab_size, full.end());
  EXPECT_LE(MaxAbsDiff(next->logits, last), 1e-4f);
}

TEST_F(KvCacheDecodeTest, SoftTokenRowsReplaceTheirPositionsEmbeddings) {
  const std::vector<int> ids = {2, 6, 513, 513, 513, 7, 8};
  const int64_t h = model_->text_config().hidden_size;
  // Rows equal to the hard embedding of the same ids change nothing...
  std::vector<float> embeds(ids.size() * h);
  ASSERT_TRUE(model_->EmbedTokens(ids, embeds.data()).ok());
  SoftTokenRows same;
  same.positions = {2, 3, 4};
  same.rows.assign(embeds.begin() + 2 * h, embeds.begin() + 5 * h);
  ForwardOptions all;
  all.logits = LogitsFor::kAll;
  auto c1 = model_->NewCache(ids.size()), c2 = model_->NewCache(ids.size()), c3 = model_->NewCache(ids.size());
  auto plain = model_->Forward(*c1, ids, nullptr, all);
  auto with_same = model_->Forward(*c2, ids, &same, all);
  ASSERT_TRUE(plain.ok() && with_same.ok());
  EXPECT_LE(MaxAbsDiff(plain->logits, with_same->logits), 1e-6f);
  // ...other rows change the logits from their position on, not before.
  SoftTokenRows other = same;
  for (float& v : other.rows) v = -v;
  auto with_other = model_->Forward(*c3, ids, &other, all);
  ASSERT_TRUE(with_other.ok());
  const size_t vocab = model_->text_config().vocab_size;
  std::vector<float> before_a(plain->logits.begin(), plain->logits.begin() + 2 * vocab);
  std::vector<float> before_b(with_other->logits.begin(), with_other->logits.begin() + 2 * vocab);
  EXPECT_LE(MaxAbsDiff(before_a, before_b), 1e-6f);
  EXPECT_GT(MaxAbsDiff(plain->logits, with_other->logits), 1e-2f);

  SoftTokenRows bad;
  bad.positions = {99};
  bad.rows.assign(h, 0.0f);
  auto c4 = model_->NewCache(ids.size());
  EXPECT_EQ(model_->Forward(*c4, ids, &bad, all).status().code(), absl::StatusCode::kInvalidArgument);
  bad.positions = {1};
  bad.rows.assign(h - 1, 0.0f);
  EXPECT_EQ(model_->Forward(*c4, ids, &bad, all).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c4->length(), 0);
}

TEST(TextModelLoadingTest, TextOnlyUseTouchesOnlyTheTextCore) {
  auto model = TextModel::Load(TinyModelDir());
  ASSERT_TRUE(model.ok()) << model.status();
  auto cache = (*model)->NewCache(8);
  ASSERT_TRUE((*model)->Forward(*cache, {2, 6, 329, 269}, LogitsFor::kLast).ok());
  const auto accessed = (*model)->checkpoint().AccessedTensors();
  EXPECT_GT(accessed.size(), 100u);
  for (const std::string& name : accessed) {
    EXPECT_EQ(name.rfind("model.language_model.", 0), 0u) << name;
    EXPECT_EQ(name.find("embed_tokens_per_layer"), std::string::npos) << name;
  }
  for (const std::string& name : (*model)->checkpoint().TensorNames()) {
    EXPECT_EQ(name.rfind("model.language_model.", 0), 0u) << name << " is visible to the text core";
  }
  EXPECT_FALSE((*model)->multimodal_embedders_loaded());
  // A multimodal hard id (<end_of_image>) maps the embedders on first use.
  ASSERT_TRUE((*model)->Forward(*cache, {512}, LogitsFor::kLast).ok());
  EXPECT_TRUE((*model)->multimodal_embedders_loaded());
}

TEST(TextModelLoadingTest, MissingOrBrokenModelDirectoryIsAClearError) {
  auto missing = TextModel::Load("/nonexistent/model");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent/model"), std::string::npos);
}

}  // namespace
}  // namespace gemma3n
