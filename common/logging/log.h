// Process-wide logging through spdlog. Components log with spdlog::info(...)
// etc.; this sets the format and the level once (GEMMA3N_LOG_LEVEL env var:
// trace, debug, info, warn, error, off; default info), logging to stderr so that
// stdout stays clean for tool output.
#pragma once

namespace gemma3n {
void InitLogging();
}  // namespace gemma3n
