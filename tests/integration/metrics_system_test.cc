// Metrics on the real system: `gemma3n serve --metrics` on the tiny model,
// requests of each modality, then serve's one endpoint read three ways: its
// samples checked against the requests sent, `promtool check metrics` on it
// (and on a standalone worker's endpoint), and a real Prometheus server
// (Debian's `prometheus`) scraping it every second and answering a query.
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/rpc/server.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/integration/client.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
using namespace std::chrono_literals;

std::string Get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);
  const httplib::Result r = client.Get(path);
  return r && r->status == 200 ? r->body : "";
}

// The sum of the samples named `name` whose labels include every `labels` pair.
double Sum(const std::string& text, const std::string& name, const std::map<std::string, std::string>& labels = {}) {
  double sum = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (!absl::StartsWith(line, name) || line.size() <= name.size()) continue;
    if (line[name.size()] != '{' && line[name.size()] != ' ') continue;
    bool all = true;
    for (const auto& [k, v] : labels) all &= absl::StrContains(line, absl::StrCat(k, "=\"", v, "\""));
    double value = 0;
    if (all && absl::SimpleAtod(line.substr(line.rfind(' ') + 1), &value)) sum += value;
  }
  return sum;
}

// `promtool check metrics` on `text`: its output ("" when clean) or why it failed.
std::string PromtoolProblems(const std::string& text, const std::string& dir) {
  const std::string file = dir + "/scrape.txt";
  std::ofstream(file) << text;
  FILE* p = ::popen(("promtool check metrics < " + file + " 2>&1").c_str(), "r");
  if (!p) return "cannot run promtool";
  std::string out;
  char buf[512];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int status = ::pclose(p);
  return status == 0 ? out : absl::StrCat("promtool exit status ", status, ": ", out);
}

pb::GenerateRequest Chat(const std::string& media_kind) {
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  if (media_kind == "image") {
    user->add_parts()->mutable_image()->set_data(testing::ReadBytes(testing::TestDataPath("images/image_0.png")));
  } else if (media_kind == "audio") {
    user->add_parts()->mutable_audio()->set_data(testing::ReadBytes(testing::TestDataPath("audio/audio_0.wav")));
  }
  user->add_parts()->set_text("Say something.");
  req.mutable_config()->set_max_new_tokens(4);
  req.mutable_config()->set_ignore_eos(true);
  return req;
}

constexpr int kNewTokens = 4;
const std::vector<std::string> kRequests = {"text", "image", "audio", "text"};

class MetricsSystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("metrics");
    const std::string listen = absl::StrCat("127.0.0.1:", testing::FreeTcpPort());
    metrics_port_ = testing::FreeTcpPort();
    serve_ = testing::ChildProcess(
        {testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen", listen, "--metrics",
         absl::StrCat("127.0.0.1:", metrics_port_), "--run-dir", dir_ + "/run", "--threads", "1"},
        dir_ + "/serve.log");
    ASSERT_TRUE(testing::WaitUntil([&] { return serve_.Log().find("ready on") != std::string::npos; }, 60s))
        << serve_.Log();
    stub_ = pb::Gemma::NewStub(MakeChannel(listen));
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve_.Log().c_str());
  }

  // Every request of kRequests, each expected to succeed.
  void SendRequests() {
    for (const std::string& kind : kRequests) {
      const testing::Outcome o = testing::Call(*stub_, Chat(kind));
      ASSERT_TRUE(o.status.ok()) << kind << ": " << o.status.error_message();
      ASSERT_EQ(o.usage.generated_tokens(), kNewTokens);
    }
  }

  std::string dir_;
  int metrics_port_ = 0;
  testing::ChildProcess serve_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
};

TEST_F(MetricsSystemTest, OneScrapeOfServeSeesEveryProcess) {
  SendRequests();
  const std::string text = Get(metrics_port_, "/metrics");
  ASSERT_FALSE(text.empty()) << "no answer from serve's metrics endpoint";
  const double n = static_cast<double>(kRequests.size());

  for (const char* child : {"gateway", "text-worker-0", "ple-service", "vision-worker", "audio-worker"}) {
    EXPECT_EQ(Sum(text, "gemma3n_process_up", {{"process", child}}), 1) << child << "\n" << text;
    EXPECT_EQ(Sum(text, "gemma3n_process_restarts_total", {{"process", child}}), 0) << child;
  }
  // The gateway: calls by method, modality and code, and one observation per generation.
  EXPECT_EQ(Sum(text, "gemma3n_requests_total", {{"method", "Generate"}, {"code", "OK"}}), n) << text;
  EXPECT_EQ(Sum(text, "gemma3n_requests_total", {{"process", "gateway"}, {"modality", "text"}}), 2);
  EXPECT_EQ(Sum(text, "gemma3n_requests_total", {{"modality", "image"}}), 1);
  EXPECT_EQ(Sum(text, "gemma3n_requests_total", {{"modality", "audio"}}), 1);
  EXPECT_EQ(Sum(text, "gemma3n_request_duration_seconds_count", {{"method", "Generate"}}), n);
  EXPECT_EQ(Sum(text, "gemma3n_time_to_first_token_seconds_count"), n);
  EXPECT_EQ(Sum(text, "gemma3n_inter_token_latency_seconds_count"), n * (kNewTokens - 1));
  EXPECT_EQ(Sum(text, "gemma3n_generated_tokens_total", {{"process", "gateway"}}), n * kNewTokens);
  EXPECT_EQ(Sum(text, "gemma3n_admission_queue_depth"), 0);
  EXPECT_EQ(Sum(text, "gemma3n_requests_in_flight"), 0);
  // The text worker saw the same tokens; the gateway counts what it sent.
  EXPECT_EQ(Sum(text, "gemma3n_text_generated_tokens_total", {{"process", "text-worker-0"}}), n * kNewTokens);
  // Every prompt token was prefilled or came from the prefix cache.
  EXPECT_EQ(Sum(text, "gemma3n_text_prompt_tokens_total") + Sum(text, "gemma3n_text_prefix_cache_reused_tokens_total"),
            Sum(text, "gemma3n_prompt_tokens_total"));
  EXPECT_GE(Sum(text, "gemma3n_text_batch_size_count"), n * kNewTokens);
  EXPECT_EQ(Sum(text, "gemma3n_kv_cache_sequence_slots"), 8);
  EXPECT_EQ(Sum(text, "gemma3n_text_active_sequences"), 0);
  // The PLE service answered every step's lookup; one text worker is attached.
  EXPECT_GE(Sum(text, "gemma3n_ple_lookups_total", {{"code", "OK"}}), Sum(text, "gemma3n_text_batch_size_count"));
  EXPECT_EQ(Sum(text, "gemma3n_ple_lookup_rows_total"),
            Sum(text, "gemma3n_text_prompt_tokens_total") + Sum(text, "gemma3n_text_generated_tokens_total") - n);
  EXPECT_EQ(Sum(text, "gemma3n_ple_attached_clients", {{"process", "ple-service"}}), 1);
  // The encoders: one image, one recording.
  EXPECT_EQ(Sum(text, "gemma3n_encoder_requests_total", {{"process", "vision-worker"}, {"code", "OK"}}), 1);
  EXPECT_EQ(Sum(text, "gemma3n_encoder_requests_total", {{"process", "audio-worker"}, {"code", "OK"}}), 1);
  EXPECT_EQ(Sum(text, "gemma3n_image_encode_duration_seconds_count"), 1);
  EXPECT_EQ(Sum(text, "gemma3n_audio_encode_seconds_per_audio_second_count"), 1);
  EXPECT_GT(Sum(text, "gemma3n_audio_input_seconds_total"), 0);

  EXPECT_EQ(PromtoolProblems(text, dir_), "");
}

// A worker on its own serves its metrics at --metrics, and --help says so.
TEST_F(MetricsSystemTest, AStandaloneWorkersEndpointPassesPromtool) {
  for (const char* bin : {"gemma3n-gateway", "gemma3n-text-worker", "gemma3n-ple-service", "gemma3n-vision-worker",
                          "gemma3n-audio-worker"}) {
    testing::ChildProcess help({testing::BinDir() + "/" + bin, "--help"}, dir_ + "/help.log");
    ASSERT_EQ(help.Wait(10s), 0) << bin;
    EXPECT_NE(help.Log().find("--metrics HOST:PORT"), std::string::npos) << bin << ": " << help.Log();
  }
  const int port = testing::FreeTcpPort();
  testing::ChildProcess vision(
      {testing::BinDir() + "/gemma3n-vision-worker", "--model", testing::TinyModelDir(), "--listen",
       "unix:" + dir_ + "/vision.sock", "--threads", "1", "--metrics", absl::StrCat("127.0.0.1:", port)},
      dir_ + "/vision.log");
  ASSERT_TRUE(testing::WaitUntil([&] { return vision.Log().find("encoder ready") != std::string::npos; }, 30s))
      << vision.Log();
  const std::string text = Get(port, "/metrics");
  EXPECT_NE(text.find("gemma3n_encoder_requests_total"), std::string::npos) << text;
  EXPECT_EQ(text.find("process=\""), std::string::npos) << "only serve adds the process label\n" << text;
  EXPECT_EQ(PromtoolProblems(text, dir_), "");

  testing::ChildProcess taken({testing::BinDir() + "/gemma3n-ple-service", "--model", testing::TinyModelDir(),
                               "--listen", "unix:" + dir_ + "/ple.sock", "--metrics", absl::StrCat("127.0.0.1:", port)},
                              dir_ + "/taken.log");
  EXPECT_EQ(taken.Wait(20s) >> 8, 2) << "a metrics port in use is bad input: " << taken.Log();
  EXPECT_NE(taken.Log().find("cannot serve metrics on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << taken.Log();
}

// Debian's Prometheus server scrapes serve every second; its query for the
// request counter gives the number of requests sent.
TEST_F(MetricsSystemTest, APrometheusServerScrapesServe) {
  SendRequests();
  const int prometheus_port = testing::FreeTcpPort();
  const std::string config = dir_ + "/prometheus.yml";
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                        << "scrape_configs:\n  - job_name: gemma3n\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << metrics_port_ << "']\n";
  testing::ChildProcess prometheus(
      {"/usr/bin/prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir_ + "/tsdb",
       absl::StrCat("--web.listen-address=127.0.0.1:", prometheus_port)},
      dir_ + "/prometheus.log");
  const std::string query =
      "/api/v1/query?query=" +
      httplib::detail::encode_query_param(R"(sum(gemma3n_requests_total{job="gemma3n",method="Generate",code="OK"}))");
  std::string answer, value;
  const bool counted = testing::WaitUntil(
      [&] {
        answer = Get(prometheus_port, query);
        const nlohmann::json j = nlohmann::json::parse(answer, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.contains("data") || j["data"]["result"].empty()) return false;
        value = j["data"]["result"][0]["value"][1].get<std::string>();
        return true;
      },
      60s);
  ASSERT_TRUE(counted) << answer << "\n" << prometheus.Log();
  EXPECT_EQ(value, std::to_string(kRequests.size())) << answer;
  // Each child's samples are apart, by the label serve gave them.
  const std::string by_process =
      Get(prometheus_port,
          "/api/v1/query?query=" + httplib::detail::encode_query_param("sum by (process) (gemma3n_process_up)"));
  for (const char* child : {"gateway", "text-worker-0", "ple-service", "vision-worker", "audio-worker"}) {
    EXPECT_NE(by_process.find(absl::StrCat("\"process\":\"", child, "\"")), std::string::npos) << by_process;
  }
}

}  // namespace
}  // namespace gemma3n
