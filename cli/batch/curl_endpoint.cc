#include "cli/batch/curl_endpoint.h"

#include <curl/curl.h>

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gemma3n::batch {
namespace {

// An answer larger than this is not a chat completion: refused rather than
// held in memory.
constexpr size_t kMaxAnswerBytes = 64 << 20;

struct Received {
  std::string body;
  bool too_large = false;
};

size_t OnData(char* data, size_t size, size_t count, void* user) {
  auto* received = static_cast<Received*>(user);
  const size_t n = size * count;
  if (received->body.size() + n > kMaxAnswerBytes) {
    received->too_large = true;
    return 0;  // makes curl stop with CURLE_WRITE_ERROR
  }
  received->body.append(data, n);
  return n;
}

struct EasyDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// One handle per thread, kept for the thread's life (connection reuse).
CURL* ThreadHandle() {
  thread_local std::unique_ptr<CURL, EasyDeleter> handle(curl_easy_init());
  curl_easy_reset(handle.get());
  return handle.get();
}

}  // namespace

CurlEndpoint::CurlEndpoint(std::string base_url, std::string api_key, std::chrono::seconds timeout)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)), timeout_(timeout) {
  static const CURLcode init = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)init;
  while (absl::EndsWith(base_url_, "/")) base_url_.pop_back();
  if (absl::EndsWith(base_url_, "/v1")) base_url_.resize(base_url_.size() - 3);
}

absl::StatusOr<HttpAnswer> CurlEndpoint::Post(const std::string& path, const std::string& body) {
  return Perform(path, &body);
}

absl::StatusOr<HttpAnswer> CurlEndpoint::Get(const std::string& path) { return Perform(path, nullptr); }

absl::StatusOr<HttpAnswer> CurlEndpoint::Perform(const std::string& path, const std::string* body) {
  CURL* curl = ThreadHandle();
  if (curl == nullptr) return absl::ResourceExhaustedError("curl_easy_init failed");
  const std::string url = base_url_ + path;
  Received received;
  curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
  const std::string auth = "Authorization: Bearer " + api_key_;
  if (!api_key_.empty()) headers = curl_slist_append(headers, auth.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnData);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &received);
  if (body != nullptr) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  const CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  if (received.too_large) {
    return absl::ResourceExhaustedError(absl::StrCat(url, ": the answer is over ", kMaxAnswerBytes >> 20, " MB"));
  }
  if (rc != CURLE_OK) return absl::UnavailableError(absl::StrCat(url, ": ", curl_easy_strerror(rc)));
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  return HttpAnswer{static_cast<int>(status), std::move(received.body)};
}

}  // namespace gemma3n::batch
