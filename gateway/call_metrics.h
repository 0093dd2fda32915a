// One public API call as the metrics see it: counted by method, the
// modality of its media and its status code, and timed from arrival to the
// last reply (gemma3n_requests_total, gemma3n_request_duration_seconds).
#pragma once

#include <chrono>
#include <string>

#include "gemma3n/v1/gemma.pb.h"
#include "google/protobuf/repeated_field.h"
#include "grpcpp/support/status.h"

namespace gemma3n {

// "text", "image", "audio" or "image+audio": the kinds of media parts.
std::string Modality(const google::protobuf::RepeatedPtrField<v1::Message>& messages);

class CallMetrics {
 public:
  // Starts the clock; `modality` as Modality() gives it.
  CallMetrics(std::string method, std::string modality);
  // Records the call with its status, which it returns.
  grpc::Status Done(grpc::Status status) const;

 private:
  const std::string method_;
  const std::string modality_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace gemma3n
