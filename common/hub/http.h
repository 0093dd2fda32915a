// One HTTP request through libcurl, as the hub client needs it: HEAD or GET,
// an optional bearer token and `Range: bytes=N-`, redirects left to the
// caller (or followed for downloads), bounded bodies, and transport failures
// as UNAVAILABLE so that WithRetries (common/cli/retry.h) tries again.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace gemma3n::hub {

struct HttpRequest {
  std::string url;
  bool head = false;
  std::string bearer_token;  // empty: no Authorization header
  int64_t range_from = -1;   // >= 0: Range: bytes=N-
  bool follow_redirects = false;
  // 2xx bodies go here when set (a download streams to disk); an error stops
  // the transfer and is returned. Otherwise bodies are kept, up to max_body.
  std::function<absl::Status(const char* data, size_t size)> on_body;
  // Called once, with the status (200 or 206), before a 2xx body's first byte.
  std::function<absl::Status(long status)> on_body_start;
  size_t max_body = 16u << 20;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; the last response's
  std::string body;                            // error bodies are always kept (truncated)
  std::string Header(const std::string& lowercase_name) const;
};

// One header line as libcurl hands it over ("Name: value\r\n"): kept under
// its lowercased name; a status line ("HTTP/...") starts a new response.
void AddHeaderLine(absl::string_view line, HttpResponse& response);

absl::StatusOr<HttpResponse> PerformHttp(const HttpRequest& request);

}  // namespace gemma3n::hub
