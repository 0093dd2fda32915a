#include "gateway/http/openai_errors.h"

#include <optional>

namespace gemma3n::http {

namespace {

// Status payloads: which field an error is about, and OpenAI's error code.
constexpr char kParamPayload[] = "gemma3n.http/param";
constexpr char kCodePayload[] = "gemma3n.http/code";

nlohmann::json ErrorObject(absl::string_view message, absl::string_view type, const std::optional<std::string>& param,
                           const std::optional<std::string>& code) {
  nlohmann::json e = {{"message", std::string(message)}, {"type", std::string(type)}, {"param", nullptr},
                      {"code", nullptr}};
  if (param && !param->empty()) e["param"] = *param;
  if (code) e["code"] = *code;
  return {{"error", std::move(e)}};
}

std::optional<std::string> Payload(const absl::Status& status, const char* url) {
  const auto p = status.GetPayload(url);  // absl::optional (not std:: in Debian's abseil)
  if (!p) return std::nullopt;
  return std::string(*p);
}

}  // namespace

absl::Status FieldError(absl::string_view param, absl::string_view message) {
  absl::Status s = absl::InvalidArgumentError(message);
  s.SetPayload(kParamPayload, absl::Cord(param));
  return s;
}

absl::Status ModelNotFound(absl::string_view model, absl::string_view served) {
  absl::Status s = absl::NotFoundError(
      std::string("The model `") + std::string(model) + "` does not exist on this server; it serves `" +
      std::string(served) + "` and `" + std::string(served) + ":PROFILE` for each profile of GET /v1/models");
  s.SetPayload(kParamPayload, absl::Cord("model"));
  s.SetPayload(kCodePayload, absl::Cord("model_not_found"));
  return s;
}

HttpError ToHttpError(const absl::Status& status) {
  int http = 500;
  const char* type = "server_error";
  std::optional<std::string> code = Payload(status, kCodePayload);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kFailedPrecondition:
      http = 400;
      type = "invalid_request_error";
      break;
    case absl::StatusCode::kUnauthenticated:
      http = 401;
      type = "invalid_request_error";
      if (!code) code = "invalid_api_key";
      break;
    case absl::StatusCode::kPermissionDenied:
      http = 403;
      type = "invalid_request_error";
      break;
    case absl::StatusCode::kNotFound:
      http = 404;
      type = "invalid_request_error";
      break;
    case absl::StatusCode::kResourceExhausted:
      http = 429;
      type = "rate_limit_error";
      if (!code) code = "queue_full";
      break;
    case absl::StatusCode::kUnavailable:
      http = 503;
      type = "service_unavailable";
      if (!code) code = "worker_unavailable";
      break;
    case absl::StatusCode::kCancelled:  // the client hung up: only the log sees it (nginx's 499)
      http = 499;
      type = "client_closed_request";
      break;
    case absl::StatusCode::kDeadlineExceeded:
      http = 504;
      type = "timeout";
      break;
    default:
      break;
  }
  const std::string message = status.message().empty() ? std::string(absl::StatusCodeToString(status.code()))
                                                       : std::string(status.message());
  return {http, ErrorObject(message, type, Payload(status, kParamPayload), code)};
}

HttpError ProtocolError(int http_status, absl::string_view message) {
  const char* code = http_status == 413 ? "request_too_large" : http_status == 405 ? "method_not_allowed" : nullptr;
  return {http_status, ErrorObject(message, "invalid_request_error", std::nullopt,
                                   code ? std::optional<std::string>(code) : std::nullopt)};
}

}  // namespace gemma3n::http
