#include "cli/batch/batch_runner.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/batch/batch_request.h"
#include "cli/batch/batch_results.h"
#include "common/cli/retry.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"

namespace gemma3n::batch {
namespace {

struct Job {
  std::string line_id;
  BatchRequest request;
};

// A queue of at most `capacity` jobs: the reader waits when it is full, so a
// 100,000-line input is never all in memory.
class JobQueue {
 public:
  explicit JobQueue(size_t capacity) : capacity_(capacity) {}
  void Push(Job job) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return jobs_.size() < capacity_; });
    jobs_.push_back(std::move(job));
    not_empty_.notify_one();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
  }
  bool Pop(Job* job) {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !jobs_.empty() || closed_; });
    if (jobs_.empty()) return false;
    *job = std::move(jobs_.front());
    jobs_.pop_front();
    not_full_.notify_one();
    return true;
  }

 private:
  const size_t capacity_;
  std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<Job> jobs_;
  bool closed_ = false;
};

// The output file and the counts, written by every thread.
class Results {
 public:
  Results(FILE* out, BatchCounts counts, const std::function<void(const BatchCounts&)>& on_progress)
      : out_(out), counts_(counts), on_progress_(on_progress) {}
  void Skipped() { Record("", false, true); }
  void Write(const std::string& line, bool ok) { Record(line, ok, false); }
  BatchCounts counts() {
    std::lock_guard<std::mutex> lock(mu_);
    return counts_;
  }
  bool write_failed() {
    std::lock_guard<std::mutex> lock(mu_);
    return write_failed_;
  }

 private:
  void Record(const std::string& line, bool ok, bool skipped) {
    std::lock_guard<std::mutex> lock(mu_);
    if (skipped) {
      ++counts_.skipped;
    } else {
      // One write and a flush per line: a run stopped at any moment leaves
      // whole lines (at most the last cut, which the rerun drops).
      const std::string text = line + "\n";
      if (std::fwrite(text.data(), 1, text.size(), out_) != text.size() || std::fflush(out_) != 0) {
        write_failed_ = true;
      }
      ++(ok ? counts_.succeeded : counts_.failed);
    }
    if (on_progress_) on_progress_(counts_);
  }
  std::mutex mu_;
  FILE* out_;
  BatchCounts counts_;
  const std::function<void(const BatchCounts&)>& on_progress_;
  bool write_failed_ = false;
};

nlohmann::json AnswerBody(const std::string& text) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) body = {{"error", {{"message", text}, {"type", "invalid_response"}}}};
  return body;
}

void RunJob(const Job& job, const BatchOptions& options, Endpoint& endpoint, Results& results) {
  const std::string body = job.request.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const RetryPolicy policy{options.max_attempts, options.first_backoff, std::chrono::seconds(30)};
  absl::StatusOr<HttpAnswer> answer;
  // The last answer is the result, whatever it is: the retries' status is not.
  (void)WithRetries(policy, job.request.custom_id, [&]() -> absl::Status {
    answer = endpoint.Post(job.request.url, body);
    if (!answer.ok()) return absl::UnavailableError(answer.status().message());  // no answer: try again
    if (IsTransientHttpStatus(answer->status)) return absl::UnavailableError(absl::StrCat("HTTP ", answer->status));
    return absl::OkStatus();
  });
  if (!answer.ok()) {
    results.Write(ErrorLine(job.line_id, job.request.custom_id, "request_failed", answer.status().ToString()), false);
    return;
  }
  results.Write(ResultLine(job.line_id, job.request.custom_id, answer->status, AnswerBody(answer->body)),
                answer->status == 200);
}

bool Blank(const std::string& line) {
  return std::all_of(line.begin(), line.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}

}  // namespace

absl::StatusOr<BatchCounts> RunBatch(const BatchOptions& options, Endpoint& endpoint,
                                     const std::function<void(const BatchCounts&)>& on_progress) {
  if (options.concurrency < 1 || options.max_attempts < 1) {
    return absl::InvalidArgumentError("concurrency and attempts must be at least 1");
  }
  std::ifstream input(options.input_path);
  if (!input) return absl::NotFoundError(absl::StrCat("cannot read the batch input ", options.input_path));
  BatchCounts counts;
  std::string line;
  while (std::getline(input, line)) counts.total += Blank(line) ? 0 : 1;
  input.clear();
  input.seekg(0);

  ASSIGN_OR_RETURN(const std::set<std::string> done, KeepFinishedResults(options.output_path));
  FILE* out = std::fopen(options.output_path.c_str(), "a");
  if (out == nullptr) return absl::PermissionDeniedError(absl::StrCat("cannot write ", options.output_path));
  Results results(out, counts, on_progress);
  JobQueue queue(2 * static_cast<size_t>(options.concurrency));
  std::vector<std::thread> workers;
  for (int i = 0; i < options.concurrency; ++i) {
    workers.emplace_back([&] {
      Job job;
      while (queue.Pop(&job)) RunJob(job, options, endpoint, results);
    });
  }
  std::set<std::string> seen;  // custom_ids of this input, for duplicates
  int64_t line_number = 0;
  while (std::getline(input, line)) {
    ++line_number;
    if (Blank(line)) continue;
    const std::string line_id = absl::StrCat("batch_req_", line_number);
    std::string custom_id;
    absl::StatusOr<BatchRequest> request = ParseBatchLine(line, &custom_id);
    if (!request.ok()) {
      results.Write(ErrorLine(line_id, custom_id, "invalid_request",
                              absl::StrCat("line ", line_number, ": ", request.status().message())),
                    false);
    } else if (!seen.insert(custom_id).second) {
      results.Write(ErrorLine(line_id, custom_id, "invalid_request",
                              absl::StrCat("line ", line_number, ": custom_id \"", custom_id,
                                           "\" already used by an earlier line")),
                    false);
    } else if (done.count(custom_id)) {
      results.Skipped();
    } else {
      queue.Push(Job{line_id, *std::move(request)});
    }
  }
  queue.Close();
  for (std::thread& t : workers) t.join();
  const bool closed_ok = std::fclose(out) == 0;
  if (results.write_failed() || !closed_ok) {
    return absl::InternalError(absl::StrCat("writing ", options.output_path, " failed (disk full?)"));
  }
  return results.counts();
}

}  // namespace gemma3n::batch
