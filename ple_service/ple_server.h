// The whole PLE service in one object: stale segments removed, the table,
// the shared-memory server and the gRPC server listening. gemma3n-ple-service
// (main.cc) runs one until SIGINT/SIGTERM; tests and the bench run one
// in-process.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "ple_service/ple_grpc_service.h"
#include "ple_service/ple_table.h"
#include "ple_service/shm_server.h"

namespace gemma3n::ple {

class PleServer {
 public:
  // Removes what a killed service left in /dev/shm, then serves `table` on
  // `listen` ("unix:PATH" or "host:port"). Unavailable when it cannot listen.
  static absl::StatusOr<std::unique_ptr<PleServer>> Start(std::unique_ptr<PleTable> table,
                                                          const std::string& listen,
                                                          int max_clients = ShmServer::kDefaultMaxClients);
  ~PleServer();  // Stop()

  // Detaches (unlinks) every segment, then stops the gRPC server. Idempotent.
  void Stop();

  const PleTable& table() const { return *table_; }
  ShmServer& shm() { return *shm_; }

 private:
  PleServer() = default;
  std::unique_ptr<PleTable> table_;
  std::unique_ptr<ShmServer> shm_;
  std::unique_ptr<PleGrpcService> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace gemma3n::ple
