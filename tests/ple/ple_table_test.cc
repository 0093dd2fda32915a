// PleTable: the rows are the checkpoint's rows, with or without the hot-row
// cache; the cache counts hits and misses, evicts least recently used rows
// and stays within its byte limit; memory figures are sane.
#include "ple_service/ple_table.h"

#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "tests/ple/ple_test_util.h"
#include "tests/support/golden.h"

namespace gemma3n::ple {
namespace {

using testing::kTinyRowWidth;
using testing::kTinyVocab;
using testing::ReferenceRows;
using testing::SomeIds;

constexpr int64_t kRowBytes = kTinyRowWidth * sizeof(float);

std::unique_ptr<PleTable> OpenTiny(int64_t cache_bytes) {
  auto t = PleTable::Open(gemma3n::testing::TinyModelDir(), cache_bytes);
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? std::move(*t) : nullptr;
}

std::vector<float> Lookup(const PleTable& t, const std::vector<int>& ids) {
  std::vector<float> out(ids.size() * t.row_width());
  absl::Status s = t.Lookup(ids, out.data());
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(PleTableTest, RowsEqualTheCheckpointRows) {
  auto t = OpenTiny(0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->vocab(), kTinyVocab);
  EXPECT_EQ(t->row_width(), kTinyRowWidth);
  std::vector<int> all(kTinyVocab);
  for (int i = 0; i < kTinyVocab; ++i) all[i] = i;
  EXPECT_EQ(Lookup(*t, all), ReferenceRows(all));  // bit for bit
  const PleTableStats s = t->Stats();
  EXPECT_EQ(s.lookups, 1);
  EXPECT_EQ(s.rows, kTinyVocab);
  EXPECT_EQ(s.cache_hits, 0);  // no cache: no hits, no misses
  EXPECT_EQ(s.cache_misses, 0);
  EXPECT_EQ(s.cache_limit_bytes, 0);
  EXPECT_EQ(s.table_bytes, int64_t{kTinyVocab} * kTinyRowWidth * 2);  // bf16
  EXPECT_GT(s.table_resident_bytes, 0);  // just read every row
  EXPECT_LE(s.table_resident_bytes, s.table_bytes);
}

TEST(PleTableTest, CacheCountsHitsAndMissesAndServesTheSameRows) {
  auto t = OpenTiny(100 * kRowBytes);
  ASSERT_TRUE(t);
  const std::vector<int> ids = {1, 2, 3, 1, 2, 1};
  EXPECT_EQ(Lookup(*t, ids), ReferenceRows(ids));
  PleTableStats s = t->Stats();
  EXPECT_EQ(s.cache_misses, 3);
  EXPECT_EQ(s.cache_hits, 3);
  EXPECT_EQ(s.cache_bytes, 3 * kRowBytes);
  EXPECT_EQ(s.cache_limit_bytes, 100 * kRowBytes);
  EXPECT_EQ(Lookup(*t, ids), ReferenceRows(ids));  // all hits now
  s = t->Stats();
  EXPECT_EQ(s.cache_hits, 9);
  EXPECT_EQ(s.cache_misses, 3);
  EXPECT_EQ(s.lookups, 2);
  EXPECT_EQ(s.rows, 12);
}

TEST(PleTableTest, CacheStaysWithinItsLimitAndEvictsLeastRecentlyUsed) {
  auto t = OpenTiny(2 * kRowBytes + kRowBytes / 2);  // room for 2 rows
  ASSERT_TRUE(t);
  Lookup(*t, {10, 20});   // miss, miss
  Lookup(*t, {10});       // hit: 10 is now the most recent
  Lookup(*t, {30});       // miss, evicts 20
  Lookup(*t, {10, 20});   // hit, miss (20 was evicted)
  PleTableStats s = t->Stats();
  EXPECT_EQ(s.cache_hits, 2);
  EXPECT_EQ(s.cache_misses, 4);
  EXPECT_EQ(s.cache_bytes, 2 * kRowBytes);
  const std::vector<int> many = SomeIds(300);
  EXPECT_EQ(Lookup(*t, many), ReferenceRows(many));
  EXPECT_LE(t->Stats().cache_bytes, t->Stats().cache_limit_bytes);
}

TEST(PleTableTest, CacheSmallerThanARowStoresNothing) {
  auto t = OpenTiny(kRowBytes - 1);
  ASSERT_TRUE(t);
  Lookup(*t, {1, 1, 1});
  EXPECT_EQ(t->Stats().cache_bytes, 0);
  EXPECT_EQ(t->Stats().cache_hits, 0);
  EXPECT_EQ(t->Stats().cache_misses, 3);
}

TEST(PleTableTest, BadIdsAreInvalidArgumentNamingTheId) {
  auto t = OpenTiny(0);
  ASSERT_TRUE(t);
  std::vector<float> out(3 * kTinyRowWidth);
  for (int bad : {-1, kTinyVocab, 1 << 30}) {
    absl::Status s = t->Lookup(std::vector<int>{0, 1, bad}, out.data());
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find(std::to_string(bad)), std::string::npos) << s;
    EXPECT_NE(s.message().find("[0, 512)"), std::string::npos) << s;
  }
  EXPECT_EQ(t->Stats().lookups, 0);  // refused before anything was read
}

TEST(PleTableTest, ConcurrentLookupsWithTheCacheGiveTheRightRows) {
  auto t = OpenTiny(50 * kRowBytes);  // smaller than the ids used: evictions race with hits
  ASSERT_TRUE(t);
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int it = 0; it < 50; ++it) {
        const std::vector<int> ids = SomeIds(64, k * 50 + it);
        std::vector<float> out(ids.size() * kTinyRowWidth);
        if (!t->Lookup(ids, out.data()).ok() || out != ReferenceRows(ids)) ++failures[k];
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures, std::vector<int>(4, 0));
  const PleTableStats s = t->Stats();
  EXPECT_EQ(s.cache_hits + s.cache_misses, 4 * 50 * 64);
  EXPECT_LE(s.cache_bytes, s.cache_limit_bytes);
}

TEST(PleTableTest, BadModelDirectoryIsAnErrorNamingIt) {
  auto t = PleTable::Open("/nonexistent/gemma3n-model", 0);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("/nonexistent/gemma3n-model"), std::string::npos) << t.status();
  EXPECT_FALSE(PleTable::Open(gemma3n::testing::TinyModelDir(), -1).ok());
}

}  // namespace
}  // namespace gemma3n::ple
