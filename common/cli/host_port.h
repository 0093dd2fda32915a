// "host:port" listen addresses of the HTTP endpoints (--http, --metrics):
// one parser, so every flag takes the same forms and says the same thing
// when given something else.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace gemma3n {

struct HostPort {
  std::string host;  // "[v6]" brackets removed; "" given = "0.0.0.0"
  int port = 0;      // 0: the system picks a free port
};

// "127.0.0.1:8080", "[::1]:8080", ":8080" (every interface). InvalidArgument
// naming `flag` and an example otherwise.
absl::StatusOr<HostPort> ParseHostPort(const std::string& flag, const std::string& text);

}  // namespace gemma3n
