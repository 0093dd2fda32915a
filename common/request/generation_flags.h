// The generation flags every command-line tool takes (--max-new,
// --temperature, --top-k, --top-p, --min-p, --repetition-penalty, --seed),
// read into GenerationSettings: a flag not given stays unset.
#pragma once

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "common/cli/args.h"
#include "common/request/generation_params.h"

namespace gemma3n {

// The flag names, for Args::Parse's value flags.
const std::set<std::string>& GenerationFlagNames();

// For a tool's usage text.
inline constexpr char kGenerationFlagsUsage[] =
    "[--max-new N] [--temperature T] [--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S]";

// Parses the flags (INVALID_ARGUMENT naming the flag for a non-number) and
// checks them with ValidateGeneration, so a bad value fails before any work.
absl::StatusOr<GenerationSettings> GenerationSettingsFromArgs(const Args& args);

// `names` with the generation flags added.
std::set<std::string> WithGenerationFlags(std::set<std::string> names);

}  // namespace gemma3n
