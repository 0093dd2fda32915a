// gemma3n-decode-bench: prompt processing and generation speed of the text
// decoder through the library, and the resident memory the process touched,
// for one model (and optionally one MatFormer profile) per run, so each
// run's memory is its own.
//
// Default: one table row (one timed prefill, then generation, --streams
// sequences decoded together):
//   build/bin/gemma3n-decode-bench --model DIR [--profile E2B] [--prompt 128] [--generate 32] [--threads 2]
//       [--preload]   (copy the weights into memory instead of reading them through the mapping)
//       [--weights bf16|int8|int4] [--streams N]  (N sequences decoded together)
// --suite: llama-bench style tests, each repeated (see decode_suite.h):
//   build/bin/gemma3n-decode-bench --model DIR --suite [--pp 128,512] [--tg 64] [--depth 4096,16384] [--repetitions 3]
//       [--format table|tsv|json] [--weights ...] [--threads ...] [--profile ...] [--preload]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <optional>
#include <random>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "bench/decode_suite.h"
#include "common/process/proc_status.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/kernels/thread_pool.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

// "128,512" -> {128, 512}.
absl::StatusOr<std::vector<int64_t>> ParseLengths(const std::string& text, const char* flag) {
  std::vector<int64_t> out;
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(part, &v) || v < 1) {
      return absl::InvalidArgumentError(absl::StrCat(flag, ": expected lengths >= 1 separated by commas, got '", text,
                                                     "'"));
    }
    out.push_back(v);
  }
  return out;
}

absl::StatusOr<SuiteOptions> SuiteOptionsFromArgs(const Args& args) {
  SuiteOptions o;
  if (auto pp = args.Get("pp")) {
    ASSIGN_OR_RETURN(o.prompt_lengths, ParseLengths(*pp, "--pp"));
  }
  ASSIGN_OR_RETURN(o.generate, args.Int("tg", o.generate));
  if (auto d = args.Get("depth")) {
    ASSIGN_OR_RETURN(o.depths, ParseLengths(*d, "--depth"));
  }
  ASSIGN_OR_RETURN(o.repetitions, args.Int("repetitions", o.repetitions));
  o.format = args.Get("format").value_or(o.format);
  if (o.format != "table" && o.format != "tsv" && o.format != "json") {
    return absl::InvalidArgumentError("--format must be table, tsv or json");
  }
  if (o.repetitions < 1 || o.generate < 1) return absl::InvalidArgumentError("--repetitions and --tg must be >= 1");
  return o;
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          {"model", "profile", "prompt", "generate", "threads", "streams", "weights",
                                           "pp", "tg", "depth", "repetitions", "format"},
                                          {"preload", "suite"}));
  ASSIGN_OR_RETURN(std::string dir, args.Required("model"));
  ASSIGN_OR_RETURN(int64_t prompt_len, args.Int("prompt", 128));
  ASSIGN_OR_RETURN(int64_t gen_len, args.Int("generate", 32));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  ASSIGN_OR_RETURN(int64_t streams, args.Int("streams", 1));
  if (streams < 1 || streams > 256) return absl::InvalidArgumentError("--streams must be in [1, 256]");
  if (prompt_len < 1 || gen_len < 1) return absl::InvalidArgumentError("--prompt and --generate must be >= 1");
  std::optional<SuiteOptions> suite;  // checked before the (long) load
  if (args.Has("suite")) {
    ASSIGN_OR_RETURN(suite, SuiteOptionsFromArgs(args));
  }

  const auto load_start = std::chrono::steady_clock::now();
  TextModel::Options model_options;
  model_options.threads = threads;
  model_options.preload_weights = args.Has("preload");
  ASSIGN_OR_RETURN(model_options.weights, ParseWeightFormat(args.Get("weights").value_or("bf16")));
  ASSIGN_OR_RETURN(auto model, TextModel::Load(dir, model_options));
  const double load_s = Seconds(load_start);
  std::optional<ElasticPlan> plan;
  std::string label = std::string("full ") + WeightFormatName(model_options.weights);
  if (auto name = args.Get("profile")) {
    ASSIGN_OR_RETURN(SlicingProfile profile, FindProfile(PublishedProfiles(), *name));
    ASSIGN_OR_RETURN(plan, model->Plan(profile));
    label = profile.alias + " " + WeightFormatName(model_options.weights);
  }
  ForwardOptions options;
  options.plan = plan ? &*plan : nullptr;
  if (suite) {
    suite->label = plan ? plan->profile.alias : "full";
    suite->load_seconds = load_s;
    return RunSuite(*model, options, model_options.weights, *suite);
  }

  const std::vector<int> prompt = MakePrompt(model->text_config(), prompt_len, /*seed=*/7);
  // `streams` sequences with the same prompt; the first prefill is timed,
  // then all decode together (one batched forward per step).
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<std::vector<float>> logits(streams);
  double prefill_s = 0;
  options.logits = LogitsFor::kLast;
  for (int64_t s = 0; s < streams; ++s) {
    caches.push_back(model->NewCache(prompt_len + gen_len, options.plan));
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(ForwardResult step, model->Forward(*caches.back(), prompt, nullptr, options));
    if (s == 0) prefill_s = Seconds(start);
    logits[s] = std::move(step.logits);
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<int> next(streams);
  for (int64_t i = 0; i < gen_len; ++i) {
    std::vector<SequenceChunk> batch;
    for (int64_t s = 0; s < streams; ++s) {
      next[s] = static_cast<int>(std::max_element(logits[s].begin(), logits[s].end()) - logits[s].begin());
      batch.push_back({caches[s].get(), absl::MakeConstSpan(&next[s], 1), nullptr, LogitsFor::kLast});
    }
    ASSIGN_OR_RETURN(std::vector<ForwardResult> out, model->ForwardBatch(batch, options.plan));
    for (int64_t s = 0; s < streams; ++s) logits[s] = std::move(out[s].logits);
  }
  const double decode_s = Seconds(start);
  std::printf("| %-14s | %4lld | %7lld | %7d | %8.1f | %8.2f | %9.2f | %8.2f | %7.1f |\n", label.c_str(),
              static_cast<long long>(plan ? plan->kept.size() : model->text_config().num_hidden_layers),
              static_cast<long long>(streams), model->pool().num_threads(), prompt_len / prefill_s,
              streams * gen_len / decode_s, ProcStatusGb("VmRSS"), ProcStatusGb("VmHWM"), load_s);
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-decode-bench",
                              "usage: gemma3n-decode-bench --model DIR [--profile NAME] [--prompt 128] [--generate 32] [--threads N]\n       [--streams N] [--weights bf16|int8|int4] [--pp N --tg N --depth D,... --repetitions R] [--format table|tsv|json]\n  prompt processing and generation speed of the text decoder, and the memory touched\n",
                              gemma3n::Run);
}
