// The one mapping from a status to an HTTP reply in OpenAI's error format,
// {"error": {"message", "type", "param", "code"}}: 400 bad input, 404
// unknown model, 429 queue full, 503 no worker, 499 (log only) the client
// hung up, 500 otherwise. The HTTP
// layer's own refusals carry the request field they are about (`param`).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace gemma3n::http {

struct HttpError {
  int status = 500;
  nlohmann::json body;  // {"error": {...}}
};

// InvalidArgument about request field `param` (e.g. "messages[1].content[0].image_url").
absl::Status FieldError(absl::string_view param, absl::string_view message);
// NotFound for a `model` this server does not serve (code "model_not_found").
absl::Status ModelNotFound(absl::string_view model, absl::string_view served);

// The status's HTTP status and error object.
HttpError ToHttpError(const absl::Status& status);

// Errors the HTTP server finds before any translation: an unknown path (404),
// a method a path does not take (405), a body over the limit (413).
HttpError ProtocolError(int http_status, absl::string_view message);

}  // namespace gemma3n::http
