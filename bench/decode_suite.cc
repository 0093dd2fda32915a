#include "bench/decode_suite.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/bench_report.h"
#include "bench/decode_weight_bytes.h"
#include "common/kernels/thread_pool.h"
#include "common/process/proc_status.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

using Clock = std::chrono::steady_clock;

// The prompt of the generation test: short, so tgN measures decoding at a
// near-empty context as llama-bench's tg does, not attention over a long one.
constexpr int64_t kGenerationPrompt = 16;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

int Argmax(const std::vector<float>& logits) {
  return static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// From a fresh cache to the first generated token: prefill with the last
// row's logits, then pick the token.
absl::StatusOr<double> TimePrompt(const TextModel& model, const ForwardOptions& forward, const std::vector<int>& prompt) {
  auto cache = model.NewCache(prompt.size() + 1, forward.plan);
  const auto start = Clock::now();
  ASSIGN_OR_RETURN(ForwardResult r, model.Forward(*cache, prompt, nullptr, forward));
  const int first = Argmax(r.logits);
  const double s = Seconds(start);
  if (first < 0) return absl::InternalError("no logits");
  return s;
}

// `n` decode steps (one token each) after `prompt`; the prompt is not timed.
absl::StatusOr<double> TimeGeneration(const TextModel& model, const ForwardOptions& forward,
                                      const std::vector<int>& prompt, int64_t n) {
  auto cache = model.NewCache(prompt.size() + n, forward.plan);
  ASSIGN_OR_RETURN(ForwardResult r, model.Forward(*cache, prompt, nullptr, forward));
  const auto start = Clock::now();
  for (int64_t i = 0; i < n; ++i) {
    const int next = Argmax(r.logits);
    ASSIGN_OR_RETURN(r, model.Forward(*cache, absl::MakeConstSpan(&next, 1), nullptr, forward));
  }
  return Seconds(start);
}

// `n` decode steps from a copy of `at` (a cache holding a long context).
absl::StatusOr<double> TimeGenerationAt(const TextModel& model, const ForwardOptions& forward, const KvCache& at,
                                        int first, int64_t n) {
  auto cache = at.CopyPrefix(at.length(), at.length() + n);
  const auto start = Clock::now();
  int next = first;
  for (int64_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(ForwardResult r, model.Forward(*cache, absl::MakeConstSpan(&next, 1), nullptr, forward));
    next = Argmax(r.logits);
  }
  return Seconds(start);
}

struct Test {
  std::string name;             // pp128, tg64
  std::vector<double> seconds;  // one per repetition
  int64_t tokens = 0;           // timed tokens per repetition

  std::vector<double> TokensPerSecond() const {
    std::vector<double> out;
    for (double s : seconds) out.push_back(tokens / s);
    return out;
  }
};

std::vector<double> Milliseconds(const std::vector<double>& seconds) {
  std::vector<double> out;
  for (double s : seconds) out.push_back(1e3 * s);
  return out;
}

}  // namespace

// BOS and random text ids: content does not change the work of a forward.
// Ids stay below the per-layer vocabulary (the text tokens; multimodal ids
// would take the embedders' path).
std::vector<int> MakePrompt(const TextConfig& c, int64_t length, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> token(3, std::min(c.vocab_size, c.vocab_size_per_layer_input) - 1);
  std::vector<int> prompt = {2};
  while (static_cast<int64_t>(prompt.size()) < length) prompt.push_back(token(rng));
  return prompt;
}

absl::Status RunSuite(const TextModel& model, const ForwardOptions& forward, WeightFormat weights,
                      const SuiteOptions& options) {
  if (options.prompt_lengths.empty()) return absl::InvalidArgumentError("--pp needs at least one prompt length");
  if (options.repetitions < 1) return absl::InvalidArgumentError("--repetitions must be >= 1");
  if (options.generate < 1) return absl::InvalidArgumentError("--tg must be >= 1");
  ASSIGN_OR_RETURN(const DecodeBytes bytes, DecodeWeightBytes(model, forward.plan, weights));
  auto prompt = [&](int64_t length, uint32_t seed) { return MakePrompt(model.text_config(), length, seed); };

  // One warm-up of both kinds of work: pages of the weights, the thread
  // pool, OpenBLAS's buffers and the allocator are hot before any timing.
  RETURN_IF_ERROR(TimePrompt(model, forward, prompt(options.prompt_lengths[0], 1)).status());
  RETURN_IF_ERROR(TimeGeneration(model, forward, prompt(kGenerationPrompt, 1), 4).status());

  std::vector<Test> tests;
  for (int64_t len : options.prompt_lengths) {
    Test t{absl::StrCat("pp", len), {}, len};
    for (int64_t r = 0; r < options.repetitions; ++r) {
      ASSIGN_OR_RETURN(double s, TimePrompt(model, forward, prompt(len, 100 + r)));
      t.seconds.push_back(s);
    }
    tests.push_back(std::move(t));
  }
  Test tg{absl::StrCat("tg", options.generate), {}, options.generate};
  for (int64_t r = 0; r < options.repetitions; ++r) {
    ASSIGN_OR_RETURN(double s,
                     TimeGeneration(model, forward, prompt(kGenerationPrompt, 200 + r), options.generate));
    tg.seconds.push_back(s);
  }
  tests.push_back(std::move(tg));
  std::vector<std::pair<int64_t, int64_t>> kv_at_depth;  // depth, KV-cache bytes
  for (int64_t depth : options.depths) {
    const std::vector<int> context = prompt(depth, 300);
    auto cache = model.NewCache(depth + options.generate, forward.plan);
    ForwardOptions quiet = forward;
    for (int64_t p = 0; p < depth; p += 512) {
      const int64_t n = std::min<int64_t>(512, depth - p);
      quiet.logits = p + n == depth ? LogitsFor::kLast : LogitsFor::kNone;
      ASSIGN_OR_RETURN(ForwardResult r, model.Forward(*cache, absl::MakeConstSpan(context).subspan(p, n), nullptr, quiet));
      if (p + n == depth) kv_at_depth.emplace_back(depth, cache->bytes());
    }
    Test t{absl::StrCat("tg", options.generate, "@d", depth), {}, options.generate};
    for (int64_t r = 0; r < options.repetitions; ++r) {
      ASSIGN_OR_RETURN(double s, TimeGenerationAt(model, forward, *cache, context.back(), options.generate));
      t.seconds.push_back(s);
    }
    tests.push_back(std::move(t));
  }
  const Spread ttft = MeanSpread(Milliseconds(tests[0].seconds));
  const int threads = model.pool().num_threads();
  const double rss = ProcStatusGb("VmRSS"), peak = ProcStatusGb("VmHWM");

  BenchRecord record;
  record.Add("model", options.label);
  record.Add("weights", WeightFormatName(weights));
  record.Add("threads", absl::StrCat(threads));
  record.Add("repetitions", absl::StrCat(options.repetitions));
  for (const Test& t : tests) {
    const Spread s = MeanSpread(t.TokensPerSecond());
    record.Add(t.name, s.mean, 2);
    record.Add(t.name + "_sd", s.sd, 2);
  }
  record.Add("ttft_ms", ttft.mean, 1);
  record.Add("ttft_ms_sd", ttft.sd, 1);
  record.Add("ttft_prompt", absl::StrCat(options.prompt_lengths[0]));
  record.Add("rss_gb", rss, 3);
  record.Add("peak_rss_gb", peak, 3);
  // Rows actually read (the sparse layers' kept channels), and all of them.
  for (const auto& [depth, kv] : kv_at_depth) record.Add(absl::StrCat("kv_bytes_d", depth), absl::StrCat(kv));
  record.Add("bytes_per_token", absl::StrCat(bytes.read));
  record.Add("dense_bytes_per_token", absl::StrCat(bytes.dense));
  record.Add("load_s", options.load_seconds, 1);
  if (options.format == "tsv") {
    std::fputs(record.Tsv().c_str(), stdout);
    return absl::OkStatus();
  }
  if (options.format == "json") {
    std::fputs(record.Json().c_str(), stdout);
    return absl::OkStatus();
  }
  if (options.format != "table") return absl::InvalidArgumentError("--format must be table, tsv or json");

  const char* row = "| %-10s | %-7s | %7s | %-14s | %20s |\n";
  const std::string threads_text = absl::StrCat(threads);
  std::printf(row, "model", "weights", "threads", "test", "result");
  std::printf("| ---------- | ------- | ------: | -------------- | -------------------: |\n");
  for (const Test& t : tests) {
    const Spread s = MeanSpread(t.TokensPerSecond());
    std::printf(row, options.label.c_str(), WeightFormatName(weights), threads_text.c_str(), t.name.c_str(),
                absl::StrFormat("%.2f ± %.2f t/s", s.mean, s.sd).c_str());
  }
  std::printf(row, options.label.c_str(), WeightFormatName(weights), threads_text.c_str(),
              absl::StrCat("ttft pp", options.prompt_lengths[0]).c_str(),
              absl::StrFormat("%.0f ± %.0f ms", ttft.mean, ttft.sd).c_str());
  std::printf("%lld repetitions after one warm-up; peak RSS %.2f GB (now %.2f GB); weights read per generated "
              "token %.3f GB (the sparse layers' kept rows; %.3f GB dense); load %.1f s\n",
              static_cast<long long>(options.repetitions), peak, rss, bytes.read / 1e9, bytes.dense / 1e9,
              options.load_seconds);
  for (const auto& [depth, kv] : kv_at_depth) {
    std::printf("KV cache at depth %lld: %.1f MB\n", static_cast<long long>(depth), kv / 1048576.0);
  }
  return absl::OkStatus();
}

}  // namespace gemma3n
