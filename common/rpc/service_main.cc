#include "common/rpc/service_main.h"

#include <chrono>
#include <cstdio>

#include "common/cli/exit_status.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

int RunServiceMain(int argc, char** argv, const std::string& component, const std::string& usage,
                   const std::function<absl::Status(const std::vector<std::string>&)>& run) {
  BlockShutdownSignals();
  InitLogging(component);
  return RunToolMain(argc, argv, "gemma3n-" + component, usage, run);
}

absl::Status ServeUntilSignal(const ServerOptions& options, const std::string& ready, CompanionServer* companion) {
  if (companion) RETURN_IF_ERROR(companion->Bind());
  ASSIGN_OR_RETURN(std::unique_ptr<grpc::Server> server, StartServer(options));
  if (companion) companion->Start(*server);
  spdlog::info("{}", ready);
  WaitForShutdownSignal();
  if (companion) companion->Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  if (companion) companion->Wait();
  return absl::OkStatus();
}

}  // namespace gemma3n
