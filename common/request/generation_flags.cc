#include "common/request/generation_flags.h"

#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

absl::StatusOr<std::optional<int64_t>> OptionalInt(const Args& args, const char* flag) {
  if (!args.Has(flag)) return std::nullopt;
  ASSIGN_OR_RETURN(int64_t v, args.Int(flag, 0));
  return v;
}

absl::StatusOr<std::optional<double>> OptionalDouble(const Args& args, const char* flag) {
  if (!args.Has(flag)) return std::nullopt;
  ASSIGN_OR_RETURN(double v, args.Double(flag, 0));
  return v;
}

}  // namespace

std::set<std::string> WithGenerationFlags(std::set<std::string> names) {
  names.insert({"max-new", "temperature", "top-k", "top-p", "min-p", "repetition-penalty", "seed"});
  return names;
}

absl::StatusOr<GenerationSettings> GenerationSettingsFromArgs(const Args& args) {
  GenerationSettings s;
  ASSIGN_OR_RETURN(s.max_new_tokens, OptionalInt(args, "max-new"));
  ASSIGN_OR_RETURN(s.temperature, OptionalDouble(args, "temperature"));
  ASSIGN_OR_RETURN(s.top_k, OptionalInt(args, "top-k"));
  ASSIGN_OR_RETURN(s.top_p, OptionalDouble(args, "top-p"));
  ASSIGN_OR_RETURN(s.min_p, OptionalDouble(args, "min-p"));
  ASSIGN_OR_RETURN(s.repetition_penalty, OptionalDouble(args, "repetition-penalty"));
  ASSIGN_OR_RETURN(std::optional<int64_t> seed, OptionalInt(args, "seed"));
  if (seed) {
    if (*seed < 0) return absl::InvalidArgumentError("--seed must be >= 0");
    s.seed = static_cast<uint64_t>(*seed);
  }
  // Any default will do for the check: only the given values are judged.
  RETURN_IF_ERROR(ValidateGeneration(s, kDefaultMaxNewTokens).status());
  return s;
}

}  // namespace gemma3n
