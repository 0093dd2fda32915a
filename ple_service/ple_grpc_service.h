// The control plane of the PLE service (gemma3n.internal.v1.PleService):
// Attach hands a client a shared-memory segment (the rows then travel through
// it, shm_server.h), Detach takes it back, GetStats reports the table, cache
// and process memory figures.
#pragma once

#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "ple_service/ple_table.h"
#include "ple_service/shm_server.h"

namespace gemma3n::ple {

class PleGrpcService final : public internal::v1::PleService::Service {
 public:
  // Both must outlive the service.
  PleGrpcService(const PleTable& table, ShmServer& shm) : table_(table), shm_(shm) {}

  grpc::Status Attach(grpc::ServerContext* context, const internal::v1::AttachRequest* request,
                      internal::v1::AttachResponse* response) override;
  grpc::Status Detach(grpc::ServerContext* context, const internal::v1::DetachRequest* request,
                      internal::v1::DetachResponse* response) override;
  grpc::Status GetStats(grpc::ServerContext* context, const internal::v1::PleStatsRequest* request,
                        internal::v1::PleStats* response) override;

 private:
  const PleTable& table_;
  ShmServer& shm_;
};

}  // namespace gemma3n::ple
