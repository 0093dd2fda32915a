#include "common/request/generation_params.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace gemma3n {
namespace {

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

absl::Status OutOfRange(const char* field, double value, const char* range) {
  return absl::InvalidArgumentError(absl::StrCat(field, " must be ", range, "; got ", value));
}

// A float field's value, checked against [lo, hi] with open ends where asked.
// Written so that NaN fails every comparison.
absl::StatusOr<float> FloatIn(const char* field, double v, double lo, bool lo_open, double hi, bool hi_open,
                              const char* range) {
  const bool above_lo = lo_open ? v > lo : v >= lo;
  const bool below_hi = hi_open ? v < hi : v <= hi;
  if (!(above_lo && below_hi) || !std::isfinite(static_cast<float>(v))) return OutOfRange(field, v, range);
  return static_cast<float>(v);
}

constexpr double kInf = std::numeric_limits<double>::infinity();

}  // namespace

absl::StatusOr<GenerationParams> ValidateGeneration(const GenerationSettings& s, int default_max_new_tokens) {
  GenerationParams out;
  const int64_t max_new = s.max_new_tokens.value_or(default_max_new_tokens);
  if (max_new < 1 || max_new > kMaxInt32) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_new_tokens must be in [1, ", kMaxInt32, "]; got ", max_new,
                     s.max_new_tokens ? "" : " (the server's default)"));
  }
  out.max_new_tokens = static_cast<int>(max_new);

  SamplingParams& p = out.sampling;
  if (s.top_k) {
    if (*s.top_k < 0 || *s.top_k > kMaxInt32) {
      return OutOfRange("top_k", static_cast<double>(*s.top_k), "in [0, 2147483647] (0 = off)");
    }
    p.top_k = static_cast<int>(*s.top_k);
  }
  if (s.top_p) {
    auto v = FloatIn("top_p", *s.top_p, 0.0, true, 1.0, false, "in (0, 1] (leave it unset for no top-p filter)");
    if (!v.ok()) return v.status();
    p.top_p = *v;
  }
  if (s.min_p) {
    auto v = FloatIn("min_p", *s.min_p, 0.0, false, 1.0, false, "in [0, 1] (0 = off)");
    if (!v.ok()) return v.status();
    p.min_p = *v;
  }
  if (s.repetition_penalty) {
    auto v = FloatIn("repetition_penalty", *s.repetition_penalty, 0.0, true, kInf, true,
                     "finite and > 0 (1 = off)");
    if (!v.ok()) return v.status();
    p.repetition_penalty = *v;
  }
  if (s.temperature) {
    auto v = FloatIn("temperature", *s.temperature, 0.0, false, kInf, true, "finite and >= 0 (0 = greedy)");
    if (!v.ok()) return v.status();
    p.temperature = *s.temperature < kGreedyBelowTemperature ? 0.0f : *v;
  } else {
    const bool filtering = p.top_k > 0 || p.top_p < 1.0f || p.min_p > 0.0f;
    p.temperature = filtering ? 1.0f : 0.0f;
  }
  p.seed = s.seed.value_or(0);
  return out;
}

GenerationSettings SettingsOf(const SamplingParams& p) {
  GenerationSettings s;
  s.temperature = p.temperature;
  s.top_k = p.top_k;
  s.top_p = p.top_p;
  s.min_p = p.min_p;
  s.repetition_penalty = p.repetition_penalty;
  s.seed = p.seed;
  return s;
}

absl::Status CheckPromptLength(int64_t prompt_tokens, int64_t context_limit) {
  if (prompt_tokens <= 0) return absl::InvalidArgumentError("the prompt is empty");
  if (prompt_tokens >= context_limit) {
    return absl::InvalidArgumentError(absl::StrCat("the prompt has ", prompt_tokens, " tokens; the context holds ",
                                                   context_limit, " (prompt + at least one generated token): ",
                                                   "shorten it by ", prompt_tokens - context_limit + 1, " tokens"));
  }
  return absl::OkStatus();
}

absl::Status CheckTokenIds(absl::Span<const int> ids, int64_t vocab_size) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab_size) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", ids[i], " at position ", i,
                                                     " is outside the vocabulary [0, ", vocab_size, ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace gemma3n
