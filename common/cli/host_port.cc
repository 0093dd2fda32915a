#include "common/cli/host_port.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace gemma3n {

absl::StatusOr<HostPort> ParseHostPort(const std::string& flag, const std::string& text) {
  HostPort out;
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(colon + 1), &out.port) || out.port < 0 ||
      out.port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("--", flag, " ", text, ": give host:port, e.g. 127.0.0.1:8080"));
  }
  out.host = text.substr(0, colon);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  if (out.host.empty()) out.host = "0.0.0.0";
  return out;
}

}  // namespace gemma3n
