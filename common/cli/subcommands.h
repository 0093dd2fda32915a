// main() of a tool with subcommands (`gemma3n serve|chat`, `gemma3n-inspect
// tokenize|logits|...`): usage on no arguments or --help, a clear error for
// an unknown command, and the command's status as the exit code.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gemma3n {

using Subcommand = std::function<absl::Status(const std::vector<std::string>& args)>;

int RunSubcommand(int argc, char** argv, const std::string& tool, const char* usage,
                  const std::map<std::string, Subcommand>& commands);

}  // namespace gemma3n
