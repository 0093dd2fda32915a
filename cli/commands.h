// The subcommands of the `gemma3n` tool.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gemma3n::cli {

// gemma3n serve: the whole system as supervised child processes.
absl::Status RunServe(const std::vector<std::string>& args);
// gemma3n chat: a streaming client of the public API.
absl::Status RunChat(const std::vector<std::string>& args);
// gemma3n batch: an OpenAI batch file against the HTTP API.
absl::Status RunBatch(const std::vector<std::string>& args);
// gemma3n pull: a checkpoint from the Hugging Face hub into the hub cache.
absl::Status RunPull(const std::vector<std::string>& args);

}  // namespace gemma3n::cli
