// Bytes as the body of a POST to the OpenAI HTTP API, read by cpp-httplib
// from memory (as from a socket) and handled as the routes do: the JSON body
// (request_body.h) -> ParseChatCompletion / ParseCompletion -> the model id's
// profile; the multipart form -> ParseTranscriptionForm. The first byte picks
// the endpoint; the rest is the body, sent with its Content-Length (and for
// the transcription endpoints, multipart/form-data with the boundary
// kBoundary, which the seeds use).
//
// A translation that succeeds goes through the gateway's checks
// (gateway_checks.h): accepted or refused with a status, never a crash. A
// handler that throws is a violation: cpp-httplib would turn it into a 500,
// hiding it.
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "gateway/http/model_ids.h"
#include "gateway/http/openai_audio.h"
#include "gateway/http/openai_request.h"
#include "gateway/http/request_body.h"
#include "gateway/transcription_prompt.h"
#include "httplib.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/gateway_checks.h"

namespace {

constexpr char kBoundary[] = "gemma3nfuzz";
constexpr char kModel[] = "gemma-3n-E2B";

// One request's bytes in, the response's bytes dropped.
class MemoryStream final : public httplib::Stream {
 public:
  explicit MemoryStream(const std::string& bytes) : bytes_(bytes) {}
  bool is_readable() const override { return true; }
  bool is_writable() const override { return true; }
  ssize_t read(char* ptr, size_t size) override {
    const size_t n = std::min(size, bytes_.size() - at_);
    bytes_.copy(ptr, n, at_);
    at_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char*, size_t size) override { return static_cast<ssize_t>(size); }
  void get_remote_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 1; }
  void get_local_ip_and_port(std::string& ip, int& port) const override { ip = "127.0.0.1", port = 2; }
  socket_t socket() const override { return INVALID_SOCKET; }

 private:
  const std::string& bytes_;
  size_t at_ = 0;
};

// A server whose requests come from memory (process_request is protected).
class MemoryServer final : public httplib::Server {
 public:
  void Serve(const std::string& bytes) {
    MemoryStream stream(bytes);
    bool closed = false;
    process_request(stream, /*close_connection=*/true, closed, [](httplib::Request&) {});
  }
};

void CheckGeneration(const absl::StatusOr<gemma3n::http::GenerationCall>& call) {
  if (!call.ok()) return;
  const absl::StatusOr<std::string> profile = gemma3n::http::ProfileOfModel(call->model, kModel, {"e2b"});
  if (!profile.ok()) return;
  gemma3n::v1::GenerateRequest request = call->request;
  request.mutable_config()->set_profile(*profile);
  (void)gemma3n::fuzz::CheckAsGateway(request);
}

// The generation each window of a transcription runs (WindowRequest in
// gateway/transcribe.cc): the instruction and the recording as one user turn.
void CheckTranscription(const absl::StatusOr<gemma3n::http::TranscriptionCall>& call) {
  if (!call.ok()) return;
  const gemma3n::v1::TranscribeRequest& t = call->request;
  gemma3n::v1::GenerateRequest request;
  gemma3n::v1::Message* m = request.add_messages();
  m->set_role("user");
  m->add_parts()->set_text(gemma3n::TranscriptionInstruction(t.task(), t.language(), t.prompt()));
  *m->add_parts()->mutable_audio() = t.audio();
  *request.mutable_config() = t.config();
  (void)gemma3n::fuzz::CheckAsGateway(request);
}

MemoryServer* server = nullptr;

struct Endpoint {
  const char* path;
  bool multipart;
};
constexpr Endpoint kEndpoints[] = {{"/v1/chat/completions", false},
                                   {"/v1/completions", false},
                                   {"/v1/audio/transcriptions", true},
                                   {"/v1/audio/translations", true}};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  using namespace gemma3n::http;
  gemma3n::fuzz::LoadGateway();
  server = new MemoryServer;
  server->set_exception_handler([](const httplib::Request& req, httplib::Response&, std::exception_ptr) {
    gemma3n::fuzz::Violated(absl::StrCat("a handler of ", req.path, " threw").c_str());
  });
  server->Post(kEndpoints[0].path, [](const httplib::Request& req, httplib::Response&) {
    const auto body = JsonBody(req);
    if (body.ok()) CheckGeneration(ParseChatCompletion(*body));
  });
  server->Post(kEndpoints[1].path, [](const httplib::Request& req, httplib::Response&) {
    const auto body = JsonBody(req);
    if (body.ok()) CheckGeneration(ParseCompletion(*body));
  });
  for (bool translate : {false, true}) {
    server->Post(kEndpoints[2 + translate].path, [translate](const httplib::Request& req, httplib::Response&) {
      if (req.is_multipart_form_data()) CheckTranscription(ParseTranscriptionForm(MultipartForm(req), translate));
    });
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Endpoint& endpoint = kEndpoints[data[0] % 4];
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string type =
      endpoint.multipart ? absl::StrCat("multipart/form-data; boundary=", kBoundary) : "application/json";
  const std::string bytes = absl::StrCat("POST ", endpoint.path, " HTTP/1.1\r\nHost: fuzz\r\nContent-Type: ", type,
                                         "\r\nContent-Length: ", body.size(), "\r\n\r\n", body);
  server->Serve(bytes);
  return 0;
}
