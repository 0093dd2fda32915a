// The subcommands of gemma3n-inspect, one file each. Each takes the
// arguments after the subcommand name and returns a status; main() turns a
// failure into a message on stderr and exit code 1 (2 for usage errors).
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gemma3n::inspect {

absl::Status RunTokenize(const std::vector<std::string>& argv);
absl::Status RunLogits(const std::vector<std::string>& argv);
absl::Status RunGenerate(const std::vector<std::string>& argv);
absl::Status RunEncodeAudio(const std::vector<std::string>& argv);
absl::Status RunEncodeImage(const std::vector<std::string>& argv);

}  // namespace gemma3n::inspect
