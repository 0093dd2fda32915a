// Bearer-token authentication of the public API (--api-key-file): a request
// must carry "authorization: Bearer KEY" (gRPC metadata, or the HTTP header
// the HTTP API passes on) with one of the file's keys. Compared in constant
// time, so the answer's timing does not leak how much of a key matched. The
// health service stays open (probes carry no key).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"

namespace gemma3n {

class ApiKeys {
 public:
  ApiKeys() = default;  // no keys: every request is let in
  // One key a line; blank lines and lines starting with '#' are skipped;
  // surrounding whitespace is trimmed. A missing or unreadable file, or one
  // with no key, is an error naming it (an operator who asked for auth must
  // not get an open server by mistake).
  static absl::StatusOr<ApiKeys> FromFile(const std::string& path);
  static ApiKeys Of(std::vector<std::string> keys);

  bool enabled() const { return !keys_.empty(); }
  // The value of an Authorization header / metadata entry: "Bearer KEY".
  bool Accepts(absl::string_view authorization) const;
  // OK when disabled or the call's "authorization" metadata is accepted;
  // UNAUTHENTICATED saying what to send otherwise.
  absl::Status Check(const grpc::ServerContext& context) const;
  absl::Status CheckHeader(absl::string_view authorization) const;

 private:
  std::vector<std::string> keys_;
};

}  // namespace gemma3n
