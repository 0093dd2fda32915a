// The Endpoint of a real gateway: HTTP POSTs with libcurl, one easy handle
// per thread (reused, so its connection is kept alive).
#pragma once

#include <chrono>
#include <string>

#include "cli/batch/endpoint.h"

namespace gemma3n::batch {

class CurlEndpoint final : public Endpoint {
 public:
  // base_url: "http://127.0.0.1:8080" (a trailing "/v1" is dropped: the
  // batch lines' urls carry it). api_key: sent as a bearer token when set.
  CurlEndpoint(std::string base_url, std::string api_key, std::chrono::seconds timeout);
  absl::StatusOr<HttpAnswer> Post(const std::string& path, const std::string& body) override;
  // GET path: the status, or an error when nothing answered (for readiness).
  absl::StatusOr<HttpAnswer> Get(const std::string& path);

 private:
  absl::StatusOr<HttpAnswer> Perform(const std::string& path, const std::string* body);
  std::string base_url_;
  std::string api_key_;
  std::chrono::seconds timeout_;
};

}  // namespace gemma3n::batch
