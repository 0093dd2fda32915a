// What the routes read from a request cpp-httplib has parsed: the JSON body,
// the multipart form, the size of either. Apart from http_server.cc so that
// tests/fuzz/fuzz_http_request.cc runs the same code on untrusted bytes.
#pragma once

#include <cstddef>

#include "absl/status/statusor.h"
#include "gateway/http/openai_audio.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace gemma3n::http {

// InvalidArgument when the body is not JSON (never throws).
absl::StatusOr<nlohmann::json> JsonBody(const httplib::Request& req);

// The body's bytes, multipart fields included (checked against --max-request-mb).
size_t BodyBytes(const httplib::Request& req);

// The multipart/form-data fields by name; the first of a repeated name.
Form MultipartForm(const httplib::Request& req);

}  // namespace gemma3n::http
