// Process-wide logging through spdlog. Components log with spdlog::info(...)
// etc.; this sets the format and the level once (GEMMA3N_LOG_LEVEL env var or
// the services' --log-level flag: trace, debug, info, warn, error, off;
// default info), logging to stderr so that stdout stays clean for tool output.
#pragma once

#include <string>

#include "absl/status/status.h"

namespace gemma3n {

// component: a short tag put on every line ("gateway", "text-worker"...).
void InitLogging(const std::string& component = "");
absl::Status SetLogLevel(const std::string& name);

}  // namespace gemma3n
