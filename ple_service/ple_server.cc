#include "ple_service/ple_server.h"

#include <chrono>

#include "common/rpc/server.h"
#include "common/status/status_macros.h"

namespace gemma3n::ple {

absl::StatusOr<std::unique_ptr<PleServer>> PleServer::Start(std::unique_ptr<PleTable> table,
                                                            const std::string& listen, int max_clients) {
  ShmServer::RemoveStaleSegments();
  auto s = std::unique_ptr<PleServer>(new PleServer());
  s->table_ = std::move(table);
  s->shm_ = std::make_unique<ShmServer>(*s->table_, max_clients);
  s->service_ = std::make_unique<PleGrpcService>(*s->table_, *s->shm_);
  ServerOptions options;
  options.listen = listen;
  options.services = {s->service_.get()};
  ASSIGN_OR_RETURN(s->server_, StartServer(options));
  return s;
}

PleServer::~PleServer() { Stop(); }

void PleServer::Stop() {
  // Segments first: a waiting client learns at once, and nothing is left in
  // /dev/shm if the process is killed while gRPC winds down. Attach calls
  // from now on are refused by the ShmServer.
  if (shm_) shm_->Shutdown();
  if (server_) {
    // Our calls are short. The grace is short too: Shutdown waits for the
    // whole deadline when idle clients are connected (they only answer the
    // GOAWAY when they next poll).
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server_.reset();
  }
}

}  // namespace gemma3n::ple
