// The prefix cache over real KvCache stores (no weights): which stored
// prefix a prompt reuses (the longest, of its own plan, equal soft rows,
// never its last token, never rows a sliding-window ring has overwritten),
// that a hit copies the rows, and the byte budget with least recently used
// entries out first.
#include "text_worker/serving/prefix_cache.h"

#include <numeric>
#include <vector>

#include "gtest/gtest.h"

namespace gemma3n {
namespace {

constexpr int64_t kWindow = 4;
constexpr int64_t kHidden = 2;

// Two layers: 0 sliding-window (a ring of 4 rows once a cache may hold
// more), 1 full attention; rows of one float.
TextConfig Config() {
  TextConfig c;
  c.num_hidden_layers = 2;
  c.num_key_value_heads = 1;
  c.head_dim = 1;
  c.sliding_window = kWindow;
  c.hidden_size = kHidden;
  return c;
}

std::vector<LayerSpec> Specs() {
  std::vector<LayerSpec> specs(2);
  specs[0].index = 0;
  specs[0].attention = AttentionType::kSliding;
  specs[1].index = 1;
  specs[1].attention = AttentionType::kFull;
  return specs;
}

// A cache of `length` tokens whose rows say their position: key p, value -p.
std::unique_ptr<KvCache> Filled(int64_t length, int64_t max_tokens) {
  auto cache = std::make_unique<KvCache>(Config(), Specs(), max_tokens);
  for (int64_t p = 0; p < length; ++p) {
    const float k = static_cast<float>(p), v = -k;
    for (int layer : {0, 1}) cache->Write(layer, p, &k, &v, 1);
  }
  cache->set_length(length);
  return cache;
}

std::vector<int> Ids(int n, int first = 100) {
  std::vector<int> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST(KvCachePrefixTest, ARingIsReusableOnlyWhereItStillHoldsTheRowsAQueryReads) {
  // 10 tokens through a ring of 4: positions 6..9 are left.
  auto cache = Filled(10, 32);
  EXPECT_TRUE(cache->Reusable(10));  // a query at 10 reads 7..9
  EXPECT_TRUE(cache->Reusable(9));   // reads 6..8
  EXPECT_FALSE(cache->Reusable(8));  // would read 5, overwritten by 9
  EXPECT_FALSE(cache->Reusable(2));
  EXPECT_FALSE(cache->Reusable(11));
  // Nothing overwritten yet: any prefix.
  auto short_cache = Filled(4, 32);
  EXPECT_TRUE(short_cache->Reusable(1));
  EXPECT_TRUE(short_cache->Reusable(0));
}

TEST(KvCachePrefixTest, ACopyHoldsThePrefixRowsInWhicheverLayoutItsSizeNeeds) {
  // Ring to ring: the full layer keeps all rows, the ring its window.
  auto copy = Filled(10, 32)->CopyPrefix(9, 40);
  EXPECT_EQ(copy->length(), 9);
  EXPECT_EQ(copy->max_tokens(), 40);
  EXPECT_TRUE(copy->IsRing(0));
  for (int64_t p = 0; p < 9; ++p) {
    EXPECT_EQ(*copy->Key(1, p), p);
    EXPECT_EQ(*copy->Value(1, p), -p);
  }
  for (int64_t p = 6; p < 9; ++p) EXPECT_EQ(*copy->Key(0, p), p) << p;
  // Not a ring (3 tokens fit the window) to a ring, and back.
  auto small = Filled(3, 3);
  ASSERT_FALSE(small->IsRing(0));
  auto grown = small->CopyPrefix(2, 20);
  EXPECT_TRUE(grown->IsRing(0));
  EXPECT_EQ(*grown->Key(0, 1), 1);
  EXPECT_EQ(*grown->Value(0, 0), 0);
  auto shrunk = grown->CopyPrefix(2, 4);
  EXPECT_FALSE(shrunk->IsRing(0));
  EXPECT_EQ(*shrunk->Key(0, 1), 1);
  EXPECT_EQ(*shrunk->Key(1, 0), 0);
}

TEST(KvCachePrefixTest, DeferredRingsKeepEveryRowUntilMakeRings) {
  auto cache = std::make_unique<KvCache>(Config(), Specs(), 32, /*defer_rings=*/true);
  for (int64_t p = 0; p < 10; ++p) {
    const float k = static_cast<float>(p), v = -k;
    for (int layer : {0, 1}) cache->Write(layer, p, &k, &v, 1);
  }
  cache->set_length(10);
  EXPECT_FALSE(cache->IsRing(0));
  EXPECT_TRUE(cache->Reusable(3));  // every row is there
  EXPECT_EQ(*cache->Key(0, 2), 2);
  auto branch = cache->CopyPrefix(3, 32);  // continue at 3: rows 0..2 in a ring
  EXPECT_TRUE(branch->IsRing(0));
  EXPECT_EQ(*branch->Key(0, 2), 2);
  EXPECT_EQ(*branch->Value(0, 0), 0);
  cache->MakeRings();
  EXPECT_TRUE(cache->IsRing(0));
  EXPECT_EQ(cache->bytes(), Filled(10, 32)->bytes());
  for (int64_t p = 6; p < 10; ++p) EXPECT_EQ(*cache->Key(0, p), p) << p;
  EXPECT_FALSE(cache->Reusable(3));
  EXPECT_FALSE(cache->HoldsAllRows());
  EXPECT_TRUE(Filled(4, 32)->HoldsAllRows());
  EXPECT_EQ(cache->bytes_per_token(), 2 * 2 * static_cast<int64_t>(sizeof(float)));  // 2 layers x (k + v) x 1 float
}

class PrefixCacheTest : public ::testing::Test {
 protected:
  void Keep(PrefixCache& pc, const ElasticPlan* plan, std::vector<int> tokens, const SoftTokenRows& soft = {}) {
    const int64_t n = static_cast<int64_t>(tokens.size());
    pc.Insert(plan, std::move(tokens), soft, kHidden, Filled(n, 64));
  }
  int64_t Reused(PrefixCache& pc, const ElasticPlan* plan, const std::vector<int>& prompt,
                 const SoftTokenRows& soft = {}) {
    PrefixHit hit = pc.Lookup(plan, prompt, soft, kHidden, 64);
    EXPECT_EQ(hit.cache != nullptr, hit.reused > 0);
    if (hit.cache) {
      EXPECT_EQ(hit.cache->length(), hit.reused);
    }
    return hit.reused;
  }
  ElasticPlan plan_a_, plan_b_;
};

TEST_F(PrefixCacheTest, APromptReusesTheLongestStoredPrefixOfItsOwnPlanButNeverItsLastToken) {
  PrefixCache pc(1 << 20);
  Keep(pc, nullptr, Ids(3));  // ring untouched (3 <= window): any prefix works
  Keep(pc, nullptr, Ids(4));
  std::vector<int> prompt = Ids(4);
  prompt.push_back(7);
  EXPECT_EQ(Reused(pc, nullptr, prompt), 4);
  EXPECT_EQ(Reused(pc, nullptr, Ids(4)), 3);  // the last token runs for its logits
  EXPECT_EQ(Reused(pc, nullptr, Ids(2)), 1);
  EXPECT_EQ(Reused(pc, nullptr, {100}), 0);
  EXPECT_EQ(Reused(pc, nullptr, Ids(5, 101)), 0);  // a different first token
  EXPECT_EQ(Reused(pc, &plan_a_, prompt), 0);       // another MatFormer plan
  Keep(pc, &plan_a_, Ids(3));
  EXPECT_EQ(Reused(pc, &plan_a_, prompt), 3);
  EXPECT_EQ(Reused(pc, &plan_b_, prompt), 0);
  EXPECT_EQ(pc.stats().lookups, 7);  // a one-token prompt has nothing to reuse: no lookup
  EXPECT_EQ(pc.stats().hits, 4);
  EXPECT_EQ(pc.stats().reused_tokens, 4 + 3 + 1 + 3);
}

TEST_F(PrefixCacheTest, TheSameTokensAgainAreOneEntry) {
  PrefixCache pc(1 << 20);
  Keep(pc, nullptr, Ids(4));
  Keep(pc, nullptr, Ids(4));
  EXPECT_EQ(pc.stats().entries, 1);
  EXPECT_EQ(pc.stats().bytes, Filled(4, 64)->bytes() + 4 * static_cast<int64_t>(sizeof(int)));
  Keep(pc, &plan_a_, Ids(4));  // another plan's: its own entry
  EXPECT_EQ(pc.stats().entries, 2);
}

TEST_F(PrefixCacheTest, AnEntryWhoseRingMovedOnServesOnlyItsLastPositions) {
  PrefixCache pc(1 << 20);
  Keep(pc, nullptr, Ids(10));  // the ring holds 6..9
  std::vector<int> branch = Ids(7);
  branch.push_back(1);  // shares 7 tokens, but a query at 7 reads 4..6
  EXPECT_EQ(Reused(pc, nullptr, branch), 0);
  std::vector<int> next_turn = Ids(10);
  next_turn.push_back(1);
  EXPECT_EQ(Reused(pc, nullptr, next_turn), 10);
  // The same tokens with every row kept (a prompt's entry) serve the branch.
  auto whole = std::make_unique<KvCache>(Config(), Specs(), 10, /*defer_rings=*/true);
  for (int64_t p = 0; p < 10; ++p) {
    const float k = static_cast<float>(p);
    for (int layer : {0, 1}) whole->Write(layer, p, &k, &k, 1);
  }
  whole->set_length(10);
  pc.Insert(nullptr, Ids(10), {}, kHidden, std::move(whole));
  EXPECT_EQ(Reused(pc, nullptr, branch), 7);
}

TEST_F(PrefixCacheTest, SoftTokenRowsMustBeEqualForThePrefixToGoOn) {
  PrefixCache pc(1 << 20);
  SoftTokenRows image;  // positions 1 and 2 are an image's rows
  image.positions = {2, 1};
  image.rows = {2.0f, 2.5f, 1.0f, 1.5f};
  Keep(pc, nullptr, Ids(4), image);
  std::vector<int> prompt = Ids(4);
  prompt.push_back(9);
  SoftTokenRows same;  // the same rows, given in another order
  same.positions = {1, 2};
  same.rows = {1.0f, 1.5f, 2.0f, 2.5f};
  EXPECT_EQ(Reused(pc, nullptr, prompt, same), 4);
  SoftTokenRows other = same;  // another image: its second row differs
  other.rows[3] = 2.75f;
  EXPECT_EQ(Reused(pc, nullptr, prompt, other), 2);
  EXPECT_EQ(Reused(pc, nullptr, prompt), 1);  // no image: only the token before it
  SoftTokenRows later;  // a soft row where the entry has a plain token
  later.positions = {1, 2, 3};
  later.rows = {1.0f, 1.5f, 2.0f, 2.5f, 3.0f, 3.5f};
  EXPECT_EQ(Reused(pc, nullptr, prompt, later), 3);
}

TEST_F(PrefixCacheTest, TheBudgetDropsTheLeastRecentlyUsedEntriesFirst) {
  // Each entry: 2 layers x (k + v) x ring or length rows x 4 bytes, plus ids.
  const int64_t one = Filled(3, 64)->bytes() + 3 * static_cast<int64_t>(sizeof(int));
  PrefixCache pc(2 * one);
  Keep(pc, nullptr, Ids(3, 100));
  Keep(pc, nullptr, Ids(3, 200));
  EXPECT_EQ(pc.stats().entries, 2);
  EXPECT_EQ(pc.stats().bytes, 2 * one);
  EXPECT_EQ(Reused(pc, nullptr, Ids(3, 100)), 2);  // 100... is now the most recent
  Keep(pc, nullptr, Ids(3, 300));                   // over budget: 200... goes
  EXPECT_EQ(pc.stats().entries, 2);
  EXPECT_EQ(Reused(pc, nullptr, Ids(3, 200)), 0);
  EXPECT_EQ(Reused(pc, nullptr, Ids(3, 100)), 2);
  EXPECT_EQ(Reused(pc, nullptr, Ids(3, 300)), 2);
  // An entry larger than the whole budget is not kept, and evicts nothing.
  Keep(pc, nullptr, Ids(40, 400));
  EXPECT_EQ(pc.stats().entries, 2);
  EXPECT_EQ(Reused(pc, nullptr, Ids(40, 400)), 0);
  // Off: nothing kept, nothing looked up.
  PrefixCache off(0);
  Keep(off, nullptr, Ids(3));
  EXPECT_EQ(Reused(off, nullptr, Ids(3)), 0);
  EXPECT_EQ(off.stats().entries, 0);
  EXPECT_EQ(off.stats().lookups, 0);
}

}  // namespace
}  // namespace gemma3n
