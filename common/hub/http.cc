#include "common/hub/http.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace gemma3n::hub {
namespace {

constexpr size_t kMaxErrorBody = 64u << 10;
constexpr size_t kMaxHeaderBytes = 256u << 10;

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
  const HttpRequest* request = nullptr;
  CURL* curl = nullptr;
  HttpResponse response;
  size_t header_bytes = 0;
  bool body_started = false;
  absl::Status sink_status;  // why a body callback stopped the transfer
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  t->header_bytes += n;
  if (t->header_bytes > kMaxHeaderBytes) {
    t->sink_status = absl::DataLossError("the server sent more than 256 KB of headers");
    return 0;
  }
  AddHeaderLine(absl::string_view(data, n), t->response);
  return n;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t n = size * count;
  long status = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
  const bool success = status >= 200 && status < 300;
  if (success && !t->body_started) {
    t->body_started = true;
    if (t->request->on_body_start) t->sink_status = t->request->on_body_start(status);
    if (!t->sink_status.ok()) return 0;
  }
  if (success && t->request->on_body) {
    t->sink_status = t->request->on_body(data, n);
    return t->sink_status.ok() ? n : 0;
  }
  const size_t limit = success ? t->request->max_body : kMaxErrorBody;
  if (t->response.body.size() + n > limit) {
    if (!success) return n;  // an error body is only for the message: keep its start
    t->sink_status = absl::DataLossError(
        absl::StrCat(t->request->url, " answered with more than ", limit >> 20, " MB, more than expected"));
    return 0;
  }
  t->response.body.append(data, n);
  return n;
}

// Failures of the connection itself: worth another try.
bool IsTransientCurlError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_GOT_NOTHING:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

void AddHeaderLine(absl::string_view line, HttpResponse& response) {
  if (absl::StartsWith(line, "HTTP/")) {
    response.headers.clear();  // a new response (after a followed redirect)
    return;
  }
  const size_t colon = line.find(':');
  if (colon == absl::string_view::npos) return;
  std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(line.substr(0, colon)));
  response.headers[name] = std::string(absl::StripAsciiWhitespace(line.substr(colon + 1)));
}

std::string HttpResponse::Header(const std::string& lowercase_name) const {
  auto it = headers.find(lowercase_name);
  return it == headers.end() ? std::string() : it->second;
}

absl::StatusOr<HttpResponse> PerformHttp(const HttpRequest& request) {
  InitCurlOnce();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl) return absl::InternalError("curl_easy_init failed");
  Transfer t;
  t.request = &request;
  t.curl = curl.get();
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "gemma3n-grpc/1 (hub downloads)");
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "identity");  // sizes and hashes are of the raw bytes
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled server is a timeout, not a hang: less than 1 byte/s for 60 s.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  if (request.head) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  if (request.range_from >= 0) {
    const std::string range = absl::StrCat(request.range_from, "-");
    curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());  // copied by curl
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> headers(nullptr, &curl_slist_free_all);
  if (!request.bearer_token.empty()) {
    // curl drops custom Authorization headers when a redirect leaves the host.
    const std::string auth = absl::StrCat("Authorization: Bearer ", request.bearer_token);
    headers.reset(curl_slist_append(nullptr, auth.c_str()));
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  }
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);

  const CURLcode code = curl_easy_perform(c);
  if (!t.sink_status.ok()) return t.sink_status;
  if (code != CURLE_OK) {
    const std::string message =
        absl::StrCat(request.head ? "HEAD " : "GET ", request.url, ": ", *error ? error : curl_easy_strerror(code));
    return IsTransientCurlError(code) ? absl::UnavailableError(message) : absl::InternalError(message);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &t.response.status);
  return std::move(t.response);
}

}  // namespace gemma3n::hub
