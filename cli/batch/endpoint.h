// Where a batch sends its requests: the HTTP API of a gateway. An interface so
// the runner is tested with a fake; the real one is CurlEndpoint.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace gemma3n::batch {

struct HttpAnswer {
  int status = 0;
  std::string body;
};

class Endpoint {
 public:
  virtual ~Endpoint() = default;
  // POST `body` (JSON) to `path` ("/v1/chat/completions"). An error status
  // only when no HTTP answer came (connection refused or cut, timeout).
  // Called from several threads at once.
  virtual absl::StatusOr<HttpAnswer> Post(const std::string& path, const std::string& body) = 0;
};

}  // namespace gemma3n::batch
