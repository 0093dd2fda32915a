// The table of metrics: well-formed names per Prometheus conventions, in id
// order, and what the registry records from it.
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "common/cli/host_port.h"
#include "common/metrics/metric_table.h"
#include "common/metrics/registry.h"
#include "gtest/gtest.h"

namespace gemma3n::metrics {
namespace {

TEST(MetricTable, NamesFollowPrometheusConventions) {
  const std::regex valid("gemma3n_[a-z0-9_]+");
  std::set<std::string> names;
  for (size_t i = 0; i < MetricTable().size(); ++i) {
    const MetricSpec& m = MetricTable()[i];
    SCOPED_TRACE(m.name);
    EXPECT_EQ(static_cast<size_t>(m.id), i) << "out of Metric order";
    EXPECT_TRUE(std::regex_match(m.name, valid));
    EXPECT_TRUE(names.insert(m.name).second) << "twice";
    EXPECT_GT(std::string(m.help).size(), 10u);
    EXPECT_EQ(absl::EndsWith(m.name, "_total"), m.kind == MetricKind::kCounter);
    if (m.kind == MetricKind::kHistogram) {
      ASSERT_FALSE(m.buckets.empty());
      for (size_t b = 1; b < m.buckets.size(); ++b) EXPECT_LT(m.buckets[b - 1], m.buckets[b]);
    } else {
      EXPECT_TRUE(m.buckets.empty());
    }
    for (const std::string& label : m.labels) EXPECT_NE(label, "le");  // a histogram's own
  }
}

// serve's label is its own: no child may export a metric with it.
TEST(MetricTable, OnlyServesMetricsCarryTheProcessLabel) {
  for (const MetricSpec& m : MetricTable()) {
    const bool has = std::find(m.labels.begin(), m.labels.end(), kProcessLabel) != m.labels.end();
    EXPECT_EQ(has, std::string(m.process) == "serve") << m.name;
  }
}

TEST(MetricsRegistry, RecordsLabelledCountersAndHistograms) {
  Registry r;
  r.Counter(Metric::kRequests, {"Generate", "image", "OK"}).Increment(3);
  r.Histogram(Metric::kRequestDuration, {"Generate"}).Observe(0.3);
  const std::string text = r.Text();
  EXPECT_NE(text.find("# TYPE gemma3n_requests_total counter"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(gemma3n_requests_total{code="OK",method="Generate",modality="image"} 3)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(gemma3n_request_duration_seconds_bucket{method="Generate",le="0.5"} 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(R"(gemma3n_request_duration_seconds_bucket{method="Generate",le="0.25"} 0)"),
            std::string::npos)
      << text;
}

TEST(MetricsRegistry, AWrongUseIsNotRecorded) {
  Registry r;
  r.Counter(Metric::kRequests, {"Generate"}).Increment();  // three labels wanted
  r.Gauge(Metric::kRequests).Set(1);                       // a counter
  EXPECT_EQ(r.Text().find("gemma3n_requests_total"), std::string::npos) << r.Text();
}

TEST(MetricsRegistry, SampledGaugesAreReadAtEachScrapeWhileTheirHandleLives) {
  Registry r;
  double depth = 2;
  {
    SampledGauge a = r.Sample(Metric::kAdmissionQueueDepth, [&] { return depth; });
    SampledGauge b = r.Sample(Metric::kAdmissionQueueDepth, [] { return 1.0; });
    EXPECT_NE(r.Text().find("gemma3n_admission_queue_depth 3"), std::string::npos) << r.Text();
    depth = 5;
    EXPECT_NE(r.Text().find("gemma3n_admission_queue_depth 6"), std::string::npos) << r.Text();
  }
  depth = 9;  // no longer read: the handles are gone
  EXPECT_EQ(r.Text().find("gemma3n_admission_queue_depth 10"), std::string::npos) << r.Text();
}

TEST(MetricsRegistry, CodeLabelsAreGrpcNames) {
  EXPECT_EQ(CodeLabel(0), "OK");
  EXPECT_EQ(CodeLabel(3), "INVALID_ARGUMENT");
  EXPECT_EQ(CodeLabel(8), "RESOURCE_EXHAUSTED");
}

TEST(HostPort, ParsesTheFormsEveryHttpFlagTakes) {
  absl::StatusOr<HostPort> a = ParseHostPort("metrics", "127.0.0.1:9464");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 9464);
  absl::StatusOr<HostPort> v6 = ParseHostPort("metrics", "[::1]:80");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(ParseHostPort("metrics", ":9464")->host, "0.0.0.0");
  for (const char* bad : {"9464", "host:", "host:70000", "host:-1", "host:x"}) {
    absl::StatusOr<HostPort> r = ParseHostPort("metrics", bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--metrics"), absl::string_view::npos) << r.status();
  }
}

}  // namespace
}  // namespace gemma3n::metrics
