// --model of every binary that loads a model: a directory, or a repo id
// ORG/NAME[@REVISION] resolved from the hub cache (hub_cache.h), offline.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/cli/args.h"

namespace gemma3n::hub {

// The required --model flag, resolved to a directory (ResolveModelDir).
absl::StatusOr<std::string> ModelDirFlag(const Args& args);

}  // namespace gemma3n::hub
