// Encoders started on demand (`gemma3n serve --encoders on-demand`): when a
// request needs an image or audio encoder and none is up, the gateway asks
// serve (its ServeControl service) to start one and waits for it, so the
// request is served by the worker started for it instead of refused.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "gateway/worker_pool.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "grpcpp/server_context.h"

namespace gemma3n {

class OnDemandStarter {
 public:
  // The longest a request waits for a worker to come up (loading a real
  // tower takes seconds; a worker stuck at start must not hold requests).
  static constexpr std::chrono::seconds kStartTimeout{120};

  explicit OnDemandStarter(const std::string& control_address);

  // Asks for `pool`'s kind and waits until an instance of it is up, until
  // `deadline`, the client cancelling, or kStartTimeout: OK when one is up;
  // UNAVAILABLE with serve's reason when it cannot start the worker;
  // DEADLINE_EXCEEDED or CANCELLED when the request ends first.
  absl::Status StartAndWait(const WorkerPool& pool, std::chrono::system_clock::time_point deadline,
                            const grpc::ServerContext& context) const;

 private:
  std::unique_ptr<gemma3n::internal::v1::ServeControl::Stub> control_;
};

}  // namespace gemma3n
