// The process edge shared by every gemma3n service binary: signals blocked
// before any thread starts, logging tagged with the component, --help, and
// the status of `run` turned into a message and an exit code; and the serve
// loop: start the server, announce readiness, stop cleanly on SIGINT/SIGTERM.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/rpc/server.h"

namespace gemma3n {

int RunServiceMain(int argc, char** argv, const std::string& component, const std::string& usage,
                   const std::function<absl::Status(const std::vector<std::string>&)>& run);

// Serves until SIGINT/SIGTERM; `ready` is logged once listening.
absl::Status ServeUntilSignal(const ServerOptions& options, const std::string& ready);

}  // namespace gemma3n
