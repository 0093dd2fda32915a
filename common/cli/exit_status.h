// The process edge of every command-line tool: a status becomes a message on
// stderr and an exit code (ExitCodeFor: 0 ok, 2 when running again cannot
// help — bad arguments, input or files — and 1 otherwise).
#pragma once

#include <functional>

#include <vector>

#include <string>

#include "absl/status/status.h"

namespace gemma3n {

int ExitWithStatus(const std::string& tool, const absl::Status& status);
int ExitCodeFor(const absl::Status& status);

// main() of a single-command tool: `usage` on --help / -h (exit 0), else
// run(the arguments) and its status as the exit code (ExitWithStatus).
int RunToolMain(int argc, char** argv, const std::string& tool, const std::string& usage,
                const std::function<absl::Status(const std::vector<std::string>&)>& run);

}  // namespace gemma3n
