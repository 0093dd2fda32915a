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

// Something served beside the gRPC server in the same process (the
// gateway's HTTP API). Bound before the gRPC server starts, so both take
// connections by the time the process says ready; started with the running
// server (for an in-process channel); told to stop before the gRPC server
// shuts down (which ends the calls it has under way) and waited for after.
class CompanionServer {
 public:
  virtual ~CompanionServer() = default;
  virtual absl::Status Bind() = 0;
  virtual void Start(grpc::Server& server) = 0;
  virtual void Stop() = 0;
  virtual void Wait() = 0;
};

// Serves until SIGINT/SIGTERM; `ready` is logged once listening.
absl::Status ServeUntilSignal(const ServerOptions& options, const std::string& ready,
                              CompanionServer* companion = nullptr);

}  // namespace gemma3n
