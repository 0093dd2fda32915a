// The process edge of every command-line tool: a status becomes a message on
// stderr and an exit code (ExitCodeFor: 0 ok, 2 when running again cannot
// help — bad arguments, input or files — and 1 otherwise).
#pragma once

#include <string>

#include "absl/status/status.h"

namespace gemma3n {

int ExitWithStatus(const std::string& tool, const absl::Status& status);
int ExitCodeFor(const absl::Status& status);

}  // namespace gemma3n
