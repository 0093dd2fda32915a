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

// Parses the flags (INVALID_ARGUMENT naming the flag for a non-number) and
// checks them with ValidateGeneration, so a bad value fails before any work.
absl::StatusOr<GenerationSettings> GenerationSettingsFromArgs(const Args& args);

// `names` with the generation flags added.
std::set<std::string> WithGenerationFlags(std::set<std::string> names);

}  // namespace gemma3n
