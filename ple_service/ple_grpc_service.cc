#include "ple_service/ple_grpc_service.h"

#include <unistd.h>

#include <cmath>

#include "common/process/proc_status.h"
#include "common/rpc/status.h"

namespace gemma3n::ple {

grpc::Status PleGrpcService::Attach(grpc::ServerContext*, const internal::v1::AttachRequest* request,
                                    internal::v1::AttachResponse* response) {
  absl::StatusOr<AttachedSegment> seg = shm_.Attach(request->client(), request->max_tokens());
  if (!seg.ok()) return ToGrpcStatus(seg.status());
  response->set_segment(seg->name);
  response->set_segment_bytes(seg->bytes);
  response->set_row_width(seg->row_width);
  response->set_vocab(static_cast<int32_t>(table_.vocab()));
  response->set_max_tokens(seg->capacity);
  response->set_service_pid(static_cast<int32_t>(::getpid()));
  return grpc::Status::OK;
}

grpc::Status PleGrpcService::Detach(grpc::ServerContext*, const internal::v1::DetachRequest* request,
                                    internal::v1::DetachResponse*) {
  return ToGrpcStatus(shm_.Detach(request->segment()));
}

grpc::Status PleGrpcService::GetStats(grpc::ServerContext*, const internal::v1::PleStatsRequest*,
                                      internal::v1::PleStats* response) {
  const PleTableStats s = table_.Stats();
  response->set_lookups(s.lookups);
  response->set_rows(s.rows);
  response->set_cache_hits(s.cache_hits);
  response->set_cache_misses(s.cache_misses);
  response->set_cache_bytes(s.cache_bytes);
  response->set_cache_limit_bytes(s.cache_limit_bytes);
  response->set_table_bytes(s.table_bytes);
  response->set_table_resident_bytes(s.table_resident_bytes);
  response->set_attached_clients(shm_.attached_clients());
  // VmRSS is in kB (KiB); ProcStatusGb divides it by 1e6.
  response->set_process_resident_bytes(std::llround(ProcStatusGb("VmRSS") * 1e6) * 1024);
  return grpc::Status::OK;
}

}  // namespace gemma3n::ple
