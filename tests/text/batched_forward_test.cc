// Batched forward (several sequences in one pass, as the text worker's
// scheduler runs them): each sequence gets exactly what it would get alone,
// whatever it is batched with (prefill chunks next to decode steps, sequences
// past the sliding window next to fresh ones); bad batches change no cache.
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

using testing::MaxAbsDiff;
using testing::TinyModelDir;

class BatchedForwardTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = TextModel::Load(TinyModelDir());
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(m).value().release();
  }
  static std::vector<int> RandomIds(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> id(10, 509);
    std::vector<int> ids = {2};
    while (static_cast<int>(ids.size()) < n) ids.push_back(id(rng));
    return ids;
  }
  // Logits of every position of `ids` run alone in one forward: [n, vocab].
  static std::vector<float> Alone(const std::vector<int>& ids) {
    auto cache = model_->NewCache(ids.size());
    auto out = model_->Forward(*cache, ids, LogitsFor::kAll);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->logits : std::vector<float>{};
  }
  static TextModel* model_;
};
TextModel* BatchedForwardTest::model_ = nullptr;

TEST_F(BatchedForwardTest, EachSequenceMatchesItsOwnForward) {
  const int64_t vocab = model_->text_config().vocab_size;
  // Three sequences of different lengths; A and B are fed in chunks of
  // different sizes while C decodes token by token.
  const std::vector<std::vector<int>> seqs = {RandomIds(30, 1), RandomIds(19, 2), RandomIds(12, 3)};
  const std::vector<size_t> chunk = {7, 19, 1};
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<std::vector<float>> got(seqs.size());
  for (const auto& s : seqs) caches.push_back(model_->NewCache(s.size()));
  for (size_t step = 0;; ++step) {
    std::vector<SequenceChunk> batch;
    std::vector<size_t> which;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const size_t begin = step * chunk[i];
      if (begin >= seqs[i].size()) continue;
      SequenceChunk c;
      c.cache = caches[i].get();
      c.ids = absl::MakeConstSpan(seqs[i]).subspan(begin, std::min(chunk[i], seqs[i].size() - begin));
      c.logits = LogitsFor::kAll;
      batch.push_back(c);
      which.push_back(i);
    }
    if (batch.empty()) break;
    auto out = model_->ForwardBatch(batch, nullptr);
    ASSERT_TRUE(out.ok()) << out.status();
    ASSERT_EQ(out->size(), batch.size());
    for (size_t b = 0; b < batch.size(); ++b) {
      EXPECT_EQ(out->at(b).logits.size(), batch[b].ids.size() * vocab);
      got[which[b]].insert(got[which[b]].end(), out->at(b).logits.begin(), out->at(b).logits.end());
    }
  }
  // Same tolerance as chunked prefill: only the summation order differs; a
  // row attending to another sequence's cache would move logits by O(1).
  for (size_t i = 0; i < seqs.size(); ++i) {
    EXPECT_EQ(caches[i]->length(), static_cast<int64_t>(seqs[i].size()));
    EXPECT_LE(MaxAbsDiff(got[i], Alone(seqs[i])), 1e-3f) << "sequence " << i;
  }
}

TEST_F(BatchedForwardTest, LastLogitsOnlyWhereAsked) {
  const std::vector<int> a = RandomIds(5, 4), b = RandomIds(6, 5);
  auto ca = model_->NewCache(8), cb = model_->NewCache(8);
  SequenceChunk x{ca.get(), a, nullptr, LogitsFor::kNone};
  SequenceChunk y{cb.get(), b, nullptr, LogitsFor::kLast};
  auto out = model_->ForwardBatch({x, y}, nullptr);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE(out->at(0).logits.empty());
  const std::vector<float> alone = Alone(b);
  const int64_t vocab = model_->text_config().vocab_size;
  EXPECT_LE(MaxAbsDiff(out->at(1).logits, std::vector<float>(alone.end() - vocab, alone.end())), 1e-3f);
}

// Past the first KV-shared layer only the rows that want logits go on (the
// KV-shared prefill shortcut): the last-position logits and the cache the
// next decode step reads must be those of the full computation.
TEST_F(BatchedForwardTest, PrefillShortcutKeepsTheReferenceLogitsAndCache) {
  testing::GoldenFile golden("golden/text/golden.safetensors");
  testing::GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::vector<int> prompt = ids.Ids("text_long.input_ids");
  const std::vector<float> all = golden.F32("text_long.logits");
  const int64_t vocab = model_->text_config().vocab_size;
  ASSERT_GT(model_->text_config().num_kv_shared_layers, 0);
  // Prefill all but the last token with no logits (every row stops at the
  // shared layers), then the last token with its logits.
  auto cache = model_->NewCache(prompt.size());
  const absl::Span<const int> span(prompt);
  auto head = model_->ForwardBatch({{cache.get(), span.subspan(0, prompt.size() - 1), nullptr, LogitsFor::kNone}},
                                   nullptr);
  ASSERT_TRUE(head.ok()) << head.status();
  auto last = model_->Forward(*cache, span.subspan(prompt.size() - 1), LogitsFor::kLast);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_LE(MaxAbsDiff(last->logits, std::vector<float>(all.end() - vocab, all.end())), 1e-3f);
  // And in one chunk with only the last logits.
  auto one = model_->NewCache(prompt.size());
  auto out = model_->Forward(*one, prompt, LogitsFor::kLast);
  ASSERT_TRUE(out.ok());
  EXPECT_LE(MaxAbsDiff(out->logits, std::vector<float>(all.end() - vocab, all.end())), 1e-3f);
}

TEST_F(BatchedForwardTest, ABadChunkLeavesEveryCacheUnchanged) {
  const std::vector<int> good = RandomIds(4, 6);
  const std::vector<int> bad = {2, 1 << 30};
  auto c1 = model_->NewCache(8), c2 = model_->NewCache(8);
  auto out = model_->ForwardBatch({{c1.get(), good}, {c2.get(), bad}}, nullptr);
  EXPECT_EQ(out.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c1->length(), 0);
  EXPECT_EQ(c2->length(), 0);
  // The same cache twice, or a chunk past its cache's end.
  EXPECT_FALSE(model_->ForwardBatch({{c1.get(), good}, {c1.get(), good}}, nullptr).ok());
  const std::vector<int> long_ids = RandomIds(9, 7);
  EXPECT_EQ(model_->ForwardBatch({{c1.get(), long_ids}}, nullptr).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(c1->length(), 0);
  EXPECT_FALSE(model_->ForwardBatch({}, nullptr).ok());
}

}  // namespace
}  // namespace gemma3n
