#include "gateway/http/request_body.h"

namespace gemma3n::http {

absl::StatusOr<nlohmann::json> JsonBody(const httplib::Request& req) {
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return absl::InvalidArgumentError("the request body is not valid JSON");
  return body;
}

size_t BodyBytes(const httplib::Request& req) {
  size_t n = req.body.size();
  for (const auto& [name, file] : req.files) n += file.content.size() + file.filename.size();
  return n;
}

Form MultipartForm(const httplib::Request& req) {
  Form form;
  for (const auto& [name, field] : req.files) {
    form.emplace(name, FormField{field.content, field.filename, field.content_type});  // the first of a name
  }
  return form;
}

}  // namespace gemma3n::http
