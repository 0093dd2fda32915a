// serve's merge of the processes' metrics texts, on fixed texts.
#include "cli/metrics_aggregator.h"

#include "gtest/gtest.h"

namespace gemma3n::cli {
namespace {

constexpr char kServe[] = R"(# HELP gemma3n_process_restarts_total Restarts.
# TYPE gemma3n_process_restarts_total counter
gemma3n_process_restarts_total{process="text-worker-0"} 2
)";

constexpr char kWorker0[] = R"(# HELP gemma3n_text_batch_size Sequences per step.
# TYPE gemma3n_text_batch_size histogram
gemma3n_text_batch_size_count 3
gemma3n_text_batch_size_sum 4
gemma3n_text_batch_size_bucket{le="1"} 2
gemma3n_text_batch_size_bucket{le="+Inf"} 3
# HELP gemma3n_kv_cache_used_bytes KV bytes.
# TYPE gemma3n_kv_cache_used_bytes gauge
gemma3n_kv_cache_used_bytes 1024
)";

constexpr char kWorker1[] =
    "# HELP gemma3n_text_batch_size Sequences per step.\r\n"
    "# TYPE gemma3n_text_batch_size histogram\r\n"
    "gemma3n_text_batch_size_count 1\r\n"
    "gemma3n_text_batch_size_sum 1\r\n"
    "gemma3n_text_batch_size_bucket{le=\"1\"} 1\r\n"
    "gemma3n_text_batch_size_bucket{le=\"+Inf\"} 1\r\n";

TEST(MetricsAggregator, LabelsEachChildsSamplesAndGroupsEachFamilyOnce) {
  const std::string merged =
      MergeMetricsTexts({{"", kServe}, {"text-worker-0", kWorker0}, {"text-worker-1", kWorker1}});
  EXPECT_EQ(merged, R"(# HELP gemma3n_process_restarts_total Restarts.
# TYPE gemma3n_process_restarts_total counter
gemma3n_process_restarts_total{process="text-worker-0"} 2
# HELP gemma3n_text_batch_size Sequences per step.
# TYPE gemma3n_text_batch_size histogram
gemma3n_text_batch_size_count{process="text-worker-0"} 3
gemma3n_text_batch_size_sum{process="text-worker-0"} 4
gemma3n_text_batch_size_bucket{process="text-worker-0",le="1"} 2
gemma3n_text_batch_size_bucket{process="text-worker-0",le="+Inf"} 3
gemma3n_text_batch_size_count{process="text-worker-1"} 1
gemma3n_text_batch_size_sum{process="text-worker-1"} 1
gemma3n_text_batch_size_bucket{process="text-worker-1",le="1"} 1
gemma3n_text_batch_size_bucket{process="text-worker-1",le="+Inf"} 1
# HELP gemma3n_kv_cache_used_bytes KV bytes.
# TYPE gemma3n_kv_cache_used_bytes gauge
gemma3n_kv_cache_used_bytes{process="text-worker-0"} 1024
)");
}

TEST(MetricsAggregator, KeepsSamplesWithoutMetadataAndSkipsComments) {
  const std::string merged =
      MergeMetricsTexts({{"gateway", "# a comment\nuntyped_thing{} 7\n\nother 1 1700000000000\n"}});
  EXPECT_EQ(merged, "untyped_thing{process=\"gateway\"} 7\nother{process=\"gateway\"} 1 1700000000000\n");
}

TEST(MetricsAggregator, EscapesTheProcessName) {
  EXPECT_EQ(MergeMetricsTexts({{"a\"b\\c", "x 1\n"}}), "x{process=\"a\\\"b\\\\c\"} 1\n");
}

TEST(MetricsAggregator, NothingGivesNothing) {
  EXPECT_EQ(MergeMetricsTexts({}), "");
  EXPECT_EQ(MergeMetricsTexts({{"gateway", ""}}), "");
}

}  // namespace
}  // namespace gemma3n::cli
