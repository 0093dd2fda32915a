// --model of every binary that loads a model: a directory, or a repo id
// resolved from the hub cache (hub_cache.h). One place for the flag's rule
// and its help text.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/cli/args.h"

namespace gemma3n::hub {

// For usage texts: what --model accepts.
inline constexpr char kModelFlagHelp[] =
    "a checkpoint directory, or a Hugging Face repo id ORG/NAME[@REVISION] already in the hub cache "
    "(gemma3n pull ORG/NAME)";

// The required --model flag, resolved to a directory (ResolveModelDir).
absl::StatusOr<std::string> ModelDirFlag(const Args& args);

}  // namespace gemma3n::hub
