// absl::Status <-> grpc::Status at the process edges. Codes map one to one
// (both follow google.rpc.Code); the message is kept.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace gemma3n {

grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace gemma3n
