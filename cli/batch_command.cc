// gemma3n batch: an OpenAI batch file (one request a line) run against the
// HTTP API of a running gateway (--url), or of a `gemma3n serve` started for
// the batch (--model), into an output file in the format OpenAI's Batch API
// and vLLM's run-batch write. A rerun with the same output goes on where the
// last one stopped.
#include <cstdlib>
#include <memory>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/batch/batch_runner.h"
#include "cli/batch/curl_endpoint.h"
#include "cli/batch/serve_child.h"
#include "cli/commands.h"
#include "common/cli/args.h"
#include "common/cli/progress_meter.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n::cli {
namespace {

std::string Detail(const batch::BatchCounts& c) {
  std::string detail = absl::StrCat(c.failed, " failed");
  if (c.skipped > 0) absl::StrAppend(&detail, ", ", c.skipped, " done before");
  return detail;
}

}  // namespace

absl::Status RunBatch(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          {"input", "output", "url", "model", "api-key", "concurrency",
                                           "max-attempts", "timeout-s", "start-timeout-s", "threads", "weights"},
                                          {}));
  batch::BatchOptions options;
  ASSIGN_OR_RETURN(options.input_path, args.Required("input"));
  ASSIGN_OR_RETURN(options.output_path, args.Required("output"));
  ASSIGN_OR_RETURN(int64_t concurrency, args.Int("concurrency", 8));
  ASSIGN_OR_RETURN(int64_t attempts, args.Int("max-attempts", 5));
  ASSIGN_OR_RETURN(int64_t timeout_s, args.Int("timeout-s", 3600));
  ASSIGN_OR_RETURN(int64_t start_timeout_s, args.Int("start-timeout-s", 600));
  if (concurrency < 1 || concurrency > 1024 || attempts < 1 || attempts > 100 || timeout_s < 0 ||
      start_timeout_s < 1) {
    return absl::InvalidArgumentError(
        "--concurrency in [1, 1024], --max-attempts in [1, 100], --timeout-s >= 0 (0 = none), --start-timeout-s >= 1");
  }
  options.concurrency = static_cast<int>(concurrency);
  options.max_attempts = static_cast<int>(attempts);
  if (args.Has("url") == args.Has("model")) {
    return absl::InvalidArgumentError("give either --url (a running gateway's HTTP API) or --model (start one)");
  }
  std::string api_key = args.Get("api-key").value_or("");
  if (api_key.empty() && std::getenv("OPENAI_API_KEY") != nullptr) api_key = std::getenv("OPENAI_API_KEY");

  std::optional<batch::ServeChild> served;
  std::string url;
  if (auto model = args.Get("model")) {
    std::vector<std::string> flags;
    for (const char* flag : {"threads", "weights"}) {
      if (auto v = args.Get(flag)) flags.insert(flags.end(), {absl::StrCat("--", flag), *v});
    }
    const std::string log_path = options.output_path + ".serve.log";
    spdlog::info("starting gemma3n serve for the batch (log: {})", log_path);
    ASSIGN_OR_RETURN(batch::ServeChild child,
                     batch::ServeChild::Start(*model, flags, log_path, std::chrono::seconds(start_timeout_s)));
    served.emplace(std::move(child));
    url = served->url();
  } else {
    url = *args.Get("url");
  }
  batch::CurlEndpoint endpoint(url, api_key, std::chrono::seconds(timeout_s));
  // A wrong --url fails now, not as one error line per request.
  absl::StatusOr<batch::HttpAnswer> models = endpoint.Get("/v1/models");
  if (!models.ok()) return absl::UnavailableError(absl::StrCat("no HTTP API at ", url, ": ", models.status().message()));
  if (models->status != 200) {
    return absl::FailedPreconditionError(absl::StrCat(url, "/v1/models answered HTTP ", models->status));
  }

  std::unique_ptr<ProgressMeter> meter;
  ASSIGN_OR_RETURN(const batch::BatchCounts counts,
                   batch::RunBatch(options, endpoint, [&](const batch::BatchCounts& c) {
                     if (!meter) meter = std::make_unique<ProgressMeter>("batch", c.total, ProgressUnit::kCount);
                     meter->Update(c.skipped + c.succeeded + c.failed, Detail(c));
                   }));
  const int64_t finished = counts.skipped + counts.succeeded + counts.failed;
  if (meter) meter->Finish(finished, Detail(counts));
  std::fprintf(stderr, "batch: %lld requests: %lld succeeded, %lld failed, %lld done by an earlier run; results in %s\n",
               static_cast<long long>(counts.total), static_cast<long long>(counts.succeeded),
               static_cast<long long>(counts.failed), static_cast<long long>(counts.skipped),
               options.output_path.c_str());
  return absl::OkStatus();
}

}  // namespace gemma3n::cli
