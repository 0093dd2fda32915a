// The batch runner against a fake endpoint: parsing and error lines, retries
// of transient answers, bounded concurrency, and a rerun that goes on where an
// interrupted run stopped.
#include "cli/batch/batch_runner.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gemma3n::batch {
namespace {

using nlohmann::json;

// Answers a request by its body's "answer" field: a status code (200 echoes
// the body); "fail_first": 503 the first time for that custom content.
class FakeEndpoint final : public Endpoint {
 public:
  absl::StatusOr<HttpAnswer> Post(const std::string& path, const std::string& body) override {
    const int now = ++in_flight_;
    int seen = max_in_flight_.load();
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    --in_flight_;
    const json j = json::parse(body);
    const std::string key = j.value("key", "");
    int attempt;
    {
      std::lock_guard<std::mutex> lock(mu_);
      attempt = ++attempts_[key];
      paths_.push_back(path);
    }
    if (j.value("no_answer", false)) return absl::UnavailableError("connection refused");
    const int fail_times = healthy ? 0 : j.value("fail_times", 0);
    if (attempt <= fail_times) return HttpAnswer{503, R"({"error":{"message":"worker down"}})"};
    const int status = j.value("answer", 200);
    if (status != 200) return HttpAnswer{status, R"({"error":{"message":"bad"}})"};
    return HttpAnswer{200, json{{"id", "chatcmpl-" + key}, {"echo", key}}.dump()};
  }
  int attempts(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_[key];
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(paths_.size());
  }
  int delay_ms = 0;
  bool healthy = false;  // ignore "fail_times" (the worker is back)
  std::atomic<int> in_flight_{0}, max_in_flight_{0};

 private:
  std::mutex mu_;
  std::map<std::string, int> attempts_;
  std::vector<std::string> paths_;
};

std::string Line(const std::string& id, const json& body, const std::string& url = "/v1/chat/completions") {
  return json{{"custom_id", id}, {"method", "POST"}, {"url", url}, {"body", body}}.dump();
}

class BatchRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("batch-test-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    options_.input_path = (dir_ / "in.jsonl").string();
    options_.output_path = (dir_ / "out.jsonl").string();
    options_.first_backoff = std::chrono::milliseconds(1);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void WriteInput(const std::vector<std::string>& lines) {
    std::ofstream out(options_.input_path);
    for (const std::string& l : lines) out << l << "\n";
  }
  // custom_id (or "line N" for null ids) -> the output line.
  std::map<std::string, json> Output() {
    std::map<std::string, json> by_id;
    std::ifstream in(options_.output_path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
      json j = json::parse(line);
      const std::string key = j["custom_id"].is_string() ? j["custom_id"].get<std::string>() : "null" + std::to_string(n++);
      EXPECT_EQ(by_id.count(key), 0u) << "two lines for " << key;
      by_id[key] = j;
    }
    return by_id;
  }
  int OutputLines() {
    std::ifstream in(options_.output_path);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) ++n;
    return n;
  }
  std::filesystem::path dir_;
  BatchOptions options_;
  FakeEndpoint endpoint_;
};

TEST_F(BatchRunnerTest, EveryLineGetsOneResultOrErrorLineAndABadLineDoesNotStopTheRest) {
  WriteInput({Line("a", {{"key", "a"}}), "this is not json", Line("b", {{"key", "b"}}, "/v1/completions"),
              Line("c", {{"key", "c"}}, "/v1/embeddings"), "",
              Line("d", {{"key", "d"}, {"stream", true}}), Line("e", {{"key", "e"}, {"answer", 400}})});
  absl::StatusOr<BatchCounts> counts = RunBatch(options_, endpoint_, nullptr);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->total, 6);
  EXPECT_EQ(counts->succeeded, 2);
  EXPECT_EQ(counts->failed, 4);
  std::map<std::string, json> out = Output();
  ASSERT_EQ(out.size(), 6u);  // a, b, c, d, e and the line without an id
  EXPECT_EQ(out["a"]["response"]["status_code"], 200);
  EXPECT_EQ(out["a"]["response"]["body"]["echo"], "a");
  EXPECT_EQ(out["a"]["response"]["request_id"], "chatcmpl-a");
  EXPECT_TRUE(out["a"]["error"].is_null());
  EXPECT_EQ(out["b"]["response"]["body"]["echo"], "b");
  EXPECT_EQ(out["c"]["error"]["code"], "invalid_request");
  EXPECT_THAT(out["c"]["error"]["message"].get<std::string>(), ::testing::HasSubstr("line 4"));
  EXPECT_THAT(out["d"]["error"]["message"].get<std::string>(), ::testing::HasSubstr("stream"));
  EXPECT_EQ(out["e"]["response"]["status_code"], 400);
  EXPECT_EQ(out["e"]["response"]["body"]["error"]["message"], "bad");
  EXPECT_THAT(out["null0"]["error"]["message"].get<std::string>(), ::testing::HasSubstr("line 2: not valid JSON"));
  EXPECT_EQ(endpoint_.calls(), 3);
}

TEST_F(BatchRunnerTest, DuplicateCustomIdIsAnErrorLineOfItsOwn) {
  WriteInput({Line("a", {{"key", "a"}}), Line("a", {{"key", "a2"}})});
  ASSERT_TRUE(RunBatch(options_, endpoint_, nullptr).ok());
  EXPECT_EQ(endpoint_.attempts("a2"), 0) << "a second line with custom_id a must not run";
  std::ifstream in(options_.output_path);
  std::string first, second;
  std::getline(in, first);
  std::getline(in, second);
  // Lines are written as requests finish: the refused duplicate may come first.
  const json dup = json::parse(json::parse(first)["error"].is_null() ? second : first);
  EXPECT_EQ(dup["custom_id"], "a");
  EXPECT_THAT(dup["error"]["message"].get<std::string>(), ::testing::HasSubstr("already used"));
}

TEST_F(BatchRunnerTest, TransientAnswersAreRetriedWithBackOffUpToTheLimit) {
  options_.max_attempts = 3;
  WriteInput({Line("twice", {{"key", "twice"}, {"fail_times", 2}}), Line("always", {{"key", "always"}, {"fail_times", 9}}),
              Line("gone", {{"key", "gone"}, {"no_answer", true}}), Line("bad", {{"key", "bad"}, {"answer", 404}})});
  ASSERT_TRUE(RunBatch(options_, endpoint_, nullptr).ok());
  std::map<std::string, json> out = Output();
  EXPECT_EQ(endpoint_.attempts("twice"), 3);
  EXPECT_EQ(out["twice"]["response"]["status_code"], 200);
  EXPECT_EQ(endpoint_.attempts("always"), 3);
  EXPECT_EQ(out["always"]["response"]["status_code"], 503);
  EXPECT_EQ(endpoint_.attempts("gone"), 3);
  EXPECT_EQ(out["gone"]["error"]["code"], "request_failed");
  EXPECT_EQ(endpoint_.attempts("bad"), 1) << "a 4xx other than 429 is final";
}

TEST_F(BatchRunnerTest, RunsUpToTheConcurrencyLimitAtOnce) {
  options_.concurrency = 3;
  endpoint_.delay_ms = 30;
  std::vector<std::string> lines;
  for (int i = 0; i < 12; ++i) lines.push_back(Line("r" + std::to_string(i), {{"key", std::to_string(i)}}));
  WriteInput(lines);
  int progress_calls = 0;
  ASSERT_TRUE(RunBatch(options_, endpoint_, [&](const BatchCounts&) { ++progress_calls; }).ok());
  EXPECT_EQ(endpoint_.max_in_flight_.load(), 3);
  EXPECT_EQ(progress_calls, 12);
  EXPECT_EQ(OutputLines(), 12);
}

TEST_F(BatchRunnerTest, ARerunSkipsFinishedCustomIdsAndRetriesTheRest) {
  options_.max_attempts = 1;
  WriteInput({Line("ok1", {{"key", "ok1"}}), Line("down", {{"key", "down"}, {"fail_times", 1}}),
              Line("ok2", {{"key", "ok2"}}), Line("cut", {{"key", "cut"}}), "{broken", Line("no", {{"key", "no"}, {"answer", 400}})});
  ASSERT_TRUE(RunBatch(options_, endpoint_, nullptr).ok());
  // An interrupted run: its last line ("cut") was cut off half way.
  std::map<std::string, json> first = Output();
  {
    std::ifstream in(options_.output_path);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string kept;
    std::istringstream lines(all);
    std::string line, cut_line;
    while (std::getline(lines, line)) {
      if (line.find("\"cut\"") != std::string::npos) {
        cut_line = line;
      } else {
        kept += line + "\n";
      }
    }
    std::ofstream out(options_.output_path, std::ios::trunc);
    out << kept << cut_line.substr(0, cut_line.size() / 2);
  }
  FakeEndpoint second;
  second.healthy = true;
  absl::StatusOr<BatchCounts> counts = RunBatch(options_, second, nullptr);
  ASSERT_TRUE(counts.ok()) << counts.status();
  EXPECT_EQ(counts->skipped, 3);  // ok1, ok2 and the final 400 for "no"
  EXPECT_EQ(second.attempts("ok1"), 0);
  EXPECT_EQ(second.attempts("ok2"), 0);
  EXPECT_EQ(second.attempts("no"), 0);
  EXPECT_EQ(second.attempts("down"), 1);
  EXPECT_EQ(second.attempts("cut"), 1);
  std::map<std::string, json> out = Output();  // fails on two lines for one id
  EXPECT_EQ(out.size(), 6u);
  EXPECT_EQ(out["down"]["response"]["status_code"], 200);
  EXPECT_EQ(out["cut"]["response"]["status_code"], 200);
  EXPECT_EQ(out["ok1"], first["ok1"]);
}

TEST_F(BatchRunnerTest, AMissingInputIsNotFound) {
  EXPECT_EQ(RunBatch(options_, endpoint_, nullptr).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gemma3n::batch
