#include "gateway/http/http_server.h"

#include <atomic>
#include <chrono>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/cli/host_port.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "gateway/http/client_watch.h"
#include "gateway/http/model_ids.h"
#include "gateway/http/openai_audio.h"
#include "gateway/http/openai_errors.h"
#include "gateway/http/openai_request.h"
#include "gateway/http/openai_response.h"
#include "gateway/http/request_body.h"
#include "gateway/http/sse.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace gemma3n::http {

namespace pb = gemma3n::v1;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

// When the request being served on this thread arrived (cpp-httplib serves
// a request on one thread, from routing to the log line).
thread_local Clock::time_point request_start;

void Reply(httplib::Response& res, const HttpError& error) {
  res.status = error.status;
  res.set_content(JsonText(error.body), "application/json");
}

void ReplyStatus(httplib::Response& res, const absl::Status& status) { Reply(res, ToHttpError(status)); }

// One generation on the in-process channel, read by the handler (its first
// message, or the whole reply) and then by the streaming content provider.
// Members end in reverse order: the watch (which cancels `context`) first.
struct LiveCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<pb::GenerateResponse>> reader;
  std::unique_ptr<ClientWatch> watch;
  bool finished = false;

  void WatchClient(const httplib::Request& req) {
    watch = std::make_unique<ClientWatch>(req.local_port, req.remote_addr, req.remote_port,
                                          [this] { context.TryCancel(); });
  }
  // A call dropped unfinished (the content provider never ran: the client
  // left before the headers went out) is cancelled and reaped here.
  ~LiveCall() {
    if (reader && !finished) {
      context.TryCancel();
      Finish().IgnoreError();
    }
  }
  // The call's status; CANCELLED naming the reason when the client hung up.
  absl::Status Finish() {
    finished = true;
    const absl::Status status = FromGrpcStatus(reader->Finish());
    if (!status.ok() && watch && watch->gone()) return absl::CancelledError("the client disconnected");
    return status;
  }
};

}  // namespace

class HttpServer::Routes {
 public:
  Routes(const HttpOptions& options, std::shared_ptr<grpc::Channel> channel)
      : options_(options),
        stub_(pb::Gemma::NewStub(std::move(channel))),
        created_(std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count()) {}

  void Install(httplib::Server& server) {
    server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
      request_start = Clock::now();
      return httplib::Server::HandlerResponse::Unhandled;
    });
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      spdlog::info("http {} {} {} {:.3f} s", req.method, req.path, res.status,
                   std::chrono::duration<double>(Clock::now() - request_start).count());
    });
    server.set_error_handler([this](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a reply of ours, already in OpenAI's format
      if (res.status == 404) {
        Reply(res, ProtocolError(404, absl::StrCat("no such endpoint: ", req.method, " ", req.path)));
      } else if (res.status == 413 && req.get_header_value("Content-Type").find("x-www-form-urlencoded") !=
                                           std::string::npos) {
        // cpp-httplib parses form bodies itself, up to 8 KB (curl -d sends
        // that type unless told otherwise).
        Reply(res, ProtocolError(413, "the body was sent as a form (application/x-www-form-urlencoded); send "
                                      "JSON with Content-Type: application/json"));
      } else if (res.status == 413) {
        Reply(res, TooLarge());
      } else {
        Reply(res, ProtocolError(res.status, absl::StrCat("the HTTP request was refused (", res.status, ")")));
      }
    });
    Route(
        server, "GET", "/health", [this](const httplib::Request&, httplib::Response& res) { Health(res); },
        Access::kOpen);
    Route(server, "GET", "/v1/models", [this](const httplib::Request&, httplib::Response& res) { Models(res, ""); });
    Route(server, "GET", "/v1/models/(.+)",
          [this](const httplib::Request& req, httplib::Response& res) { Models(res, req.matches[1]); });
    Route(server, "POST", "/v1/chat/completions", [this](const httplib::Request& req, httplib::Response& res) {
      Generate(req, res, Endpoint::kChat);
    });
    Route(server, "POST", "/v1/completions", [this](const httplib::Request& req, httplib::Response& res) {
      Generate(req, res, Endpoint::kCompletion);
    });
    Route(server, "POST", "/v1/audio/transcriptions", [this](const httplib::Request& req, httplib::Response& res) {
      Transcribe(req, res, /*translate=*/false);
    });
    Route(server, "POST", "/v1/audio/translations", [this](const httplib::Request& req, httplib::Response& res) {
      Transcribe(req, res, /*translate=*/true);
    });
  }

 private:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  enum class Access { kApiKey, kOpen };  // kOpen: no API key needed (health probes)

  // `handler` for `method` on `path`, and 405 for the other methods.
  void Route(httplib::Server& server, const std::string& method, const std::string& path, Handler handler,
             Access access = Access::kApiKey) {
    const Handler checked = [this, handler, access](const httplib::Request& req, httplib::Response& res) {
      if (access == Access::kApiKey) {
        const absl::Status auth = options_.api_keys.CheckHeader(req.get_header_value("Authorization"));
        if (!auth.ok()) return Reply(res, ToHttpError(auth));
      }
      if (BodyBytes(req) > static_cast<size_t>(options_.max_request_bytes)) return Reply(res, TooLarge());
      handler(req, res);
    };
    const Handler refuse = [method, path](const httplib::Request& req, httplib::Response& res) {
      Reply(res, ProtocolError(405, absl::StrCat(path, " takes ", method, ", not ", req.method)));
    };
    const std::map<std::string, httplib::Server& (httplib::Server::*)(const std::string&, httplib::Server::Handler)>
        methods = {{"GET", &httplib::Server::Get},
                   {"POST", &httplib::Server::Post},
                   {"PUT", &httplib::Server::Put},
                   {"PATCH", &httplib::Server::Patch},
                   {"DELETE", &httplib::Server::Delete}};
    for (const auto& [name, add] : methods) (server.*add)(path, name == method ? checked : refuse);
  }

  // The in-process call of a caller this front end let in (the gRPC
  // service checks the key of every call).
  void Authorize(grpc::ClientContext& context) const {
    const std::string authorization = options_.api_keys.InProcessAuthorization();
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
  }

  HttpError TooLarge() const {
    return ProtocolError(413, absl::StrCat("the request is over this server's limit of ",
                                           options_.max_request_bytes >> 20,
                                           " MB (the gateway's --max-request-mb), images and audio included"));
  }

  absl::StatusOr<pb::ModelInfo> ModelInfo() {
    grpc::ClientContext context;
    Authorize(context);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    pb::ModelInfo info;
    RETURN_IF_ERROR(FromGrpcStatus(stub_->GetModelInfo(&context, pb::GetModelInfoRequest(), &info)));
    return info;
  }

  // The profile `model` picks; the profiles are asked of the service only for
  // an id that is not the served name.
  absl::StatusOr<std::string> Profile(const std::string& model) {
    if (model.empty() || model == options_.served_model_name) return std::string();
    ASSIGN_OR_RETURN(pb::ModelInfo info, ModelInfo());
    return ProfileOfModel(model, options_.served_model_name,
                          std::vector<std::string>(info.profiles().begin(), info.profiles().end()));
  }

  ReplyMeta Meta(Endpoint endpoint, const std::string& model) {
    ReplyMeta meta;
    meta.endpoint = endpoint;
    meta.id = absl::StrCat(endpoint == Endpoint::kChat ? "chatcmpl-" : "cmpl-",
                           absl::Hex(static_cast<uint64_t>(created_), absl::kZeroPad8),
                           absl::Hex(next_id_.fetch_add(1), absl::kZeroPad8));
    meta.model = model.empty() ? options_.served_model_name : model;
    meta.created = std::chrono::duration_cast<std::chrono::seconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
    return meta;
  }

  // GET /health (as vLLM and llama.cpp's server have it): 200 while a text
  // worker is up, else 503 naming what is down.
  void Health(httplib::Response& res) {
    absl::StatusOr<pb::ModelInfo> info = ModelInfo();
    if (!info.ok()) return ReplyStatus(res, info.status());
    std::vector<std::string> down;
    bool text_up = false;
    for (const pb::WorkerStatus& w : info->workers()) {
      if (w.kind() == "text" && w.healthy()) text_up = true;
      if (!w.healthy()) down.push_back(absl::StrCat(w.kind(), " worker ", w.address(), ": ", w.detail()));
    }
    if (!text_up) {
      return ReplyStatus(res, absl::UnavailableError(absl::StrCat("no text worker is up (", absl::StrJoin(down, "; "),
                                                                  ")")));
    }
    res.set_content(JsonText({{"status", "ok"}, {"down", down}}), "application/json");
  }

  // The list, or with `id` that one model object (GET /v1/models/{id}).
  void Models(httplib::Response& res, const std::string& id) {
    absl::StatusOr<pb::ModelInfo> info = ModelInfo();
    if (!info.ok()) return ReplyStatus(res, info.status());
    const std::vector<std::string> profiles(info->profiles().begin(), info->profiles().end());
    const nlohmann::json list = ModelList(ModelIds(options_.served_model_name, profiles), created_);
    if (id.empty()) return res.set_content(JsonText(list), "application/json");
    for (const nlohmann::json& model : list["data"]) {
      if (model["id"] == id) return res.set_content(JsonText(model), "application/json");
    }
    ReplyStatus(res, ModelNotFound(id, options_.served_model_name));
  }

  void Generate(const httplib::Request& req, httplib::Response& res, Endpoint endpoint) {
    absl::StatusOr<json> body = JsonBody(req);
    if (!body.ok()) return ReplyStatus(res, body.status());
    absl::StatusOr<GenerationCall> call =
        endpoint == Endpoint::kChat ? ParseChatCompletion(*body) : ParseCompletion(*body);
    if (!call.ok()) return ReplyStatus(res, call.status());
    absl::StatusOr<std::string> profile = Profile(call->model);
    if (!profile.ok()) return ReplyStatus(res, profile.status());
    call->request.mutable_config()->set_profile(*profile);

    auto live = std::make_shared<LiveCall>();
    Authorize(live->context);
    live->reader = stub_->Generate(&live->context, call->request);
    live->WatchClient(req);
    // The first message decides the HTTP status: an error before it (bad
    // input, queue full, no worker) is a plain error reply, not a stream.
    pb::GenerateResponse first;
    if (!live->reader->Read(&first)) return ReplyStatus(res, live->Finish());
    const ReplyMeta meta = Meta(endpoint, call->model);
    if (!call->stream) return Whole(*live, std::move(first), meta, res);
    res.set_header("Cache-Control", "no-cache");
    const bool include_usage = call->include_usage;
    res.set_chunked_content_provider(
        "text/event-stream", [live, first = std::move(first), meta, include_usage](size_t, httplib::DataSink& sink) {
          return Stream(*live, first, meta, include_usage, sink);
        });
  }

  static void Whole(LiveCall& live, pb::GenerateResponse message, const ReplyMeta& meta, httplib::Response& res) {
    std::string text;
    pb::GenerateResponse last;
    do {
      text += message.text();
      if (message.finish_reason() != pb::FINISH_REASON_UNSPECIFIED) last = message;
    } while (live.reader->Read(&message));
    const absl::Status status = live.Finish();
    if (!status.ok()) return ReplyStatus(res, status);
    res.set_content(JsonText(CompletionObject(meta, text, last.finish_reason(), last.usage())), "application/json");
  }

  // The whole event stream; false (the connection is dropped) once the client is gone.
  static bool Stream(LiveCall& live, pb::GenerateResponse message, const ReplyMeta& meta, bool include_usage,
                     httplib::DataSink& sink) {
    const auto send = [&sink](const std::string& event) { return sink.write(event.data(), event.size()); };
    bool open = meta.endpoint != Endpoint::kChat || send(SseEvent(RoleChunk(meta)));
    pb::GenerateResponse last;
    bool more = true;
    while (open && more) {
      if (!message.text().empty()) open = send(SseEvent(TextChunk(meta, message.text())));
      if (message.finish_reason() != pb::FINISH_REASON_UNSPECIFIED) last = message;
      more = open && live.reader->Read(&message);
    }
    if (!open) {
      live.context.TryCancel();
      live.Finish().IgnoreError();  // CANCELLED: we cancelled it
      spdlog::info("http: {} cancelled: the client stopped reading", meta.id);
      return false;
    }
    absl::Status status = live.Finish();
    if (status.ok() && last.finish_reason() == pb::FINISH_REASON_UNSPECIFIED) {
      status = absl::InternalError("the generation ended without a finish reason");
    }
    if (!status.ok()) {
      spdlog::info("http: {} ended by an error after streaming began: {}", meta.id, status.ToString());
      send(SseEvent(ToHttpError(status).body));
    } else {
      open = send(SseEvent(FinishChunk(meta, last.finish_reason())));
      if (open && include_usage) open = send(SseEvent(UsageChunk(meta, last.usage())));
      if (open) send(SseDone());
    }
    sink.done();
    return true;
  }

  void Transcribe(const httplib::Request& req, httplib::Response& res, bool translate) {
    if (!req.is_multipart_form_data()) {
      return ReplyStatus(res, FieldError("file", "send the recording as multipart/form-data with a `file` field"));
    }
    absl::StatusOr<TranscriptionCall> call = ParseTranscriptionForm(MultipartForm(req), translate);
    if (!call.ok()) return ReplyStatus(res, call.status());
    absl::StatusOr<std::string> profile = Profile(call->model);
    if (!profile.ok()) return ReplyStatus(res, profile.status());
    call->request.mutable_config()->set_profile(*profile);
    grpc::ClientContext context;
    Authorize(context);
    ClientWatch watch(req.local_port, req.remote_addr, req.remote_port, [&context] { context.TryCancel(); });
    pb::TranscribeResponse reply;
    const absl::Status status = FromGrpcStatus(stub_->Transcribe(&context, call->request, &reply));
    if (!status.ok()) return ReplyStatus(res, status);
    const RenderedTranscript out = RenderTranscript(reply, call->format, translate);
    res.set_content(out.body, out.content_type);
  }

  const HttpOptions& options_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
  const int64_t created_;
  std::atomic<uint64_t> next_id_{1};
};

namespace {

std::unique_ptr<httplib::Server> MakeServer(const TlsFiles& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  return std::make_unique<httplib::SSLServer>(tls.cert.c_str(), tls.key.c_str(),
                                              tls.client_ca.empty() ? nullptr : tls.client_ca.c_str());
}

}  // namespace

HttpServer::HttpServer(HttpOptions options) : options_(std::move(options)), server_(MakeServer(options_.tls)) {}

HttpServer::~HttpServer() {
  Stop();
  Wait();
}

absl::Status HttpServer::Bind() {
  ASSIGN_OR_RETURN(const HostPort address, ParseHostPort("http", options_.listen));
  const std::string& host = address.host;
  const int port = address.port;
  if (!server_->is_valid()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serve HTTPS on ", options_.listen, ": ", options_.tls.cert,
                                                   " and ", options_.tls.key,
                                                   " are not a PEM certificate and its key (or the client CA is bad)"));
  }
  // Bodies a little over the limit are still read, so the client (still
  // sending) gets the 413 instead of a reset connection; far over, the
  // connection is cut.
  server_->set_payload_max_length(static_cast<size_t>(options_.max_request_bytes) * 2 + (1u << 20));
  const int threads = std::max(8, options_.threads);
  server_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  port_ = port == 0 ? server_->bind_to_any_port(host) : (server_->bind_to_port(host, port) ? port : -1);
  if (port_ <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot listen for HTTP on ", options_.listen,
                                                   " (address in use, or not a valid host:port)"));
  }
  return absl::OkStatus();
}

void HttpServer::Start(grpc::Server& server) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(options_.max_request_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(options_.max_request_bytes));
  routes_ = std::make_unique<Routes>(options_, server.InProcessChannel(args));
  routes_->Install(*server_);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  spdlog::info("OpenAI-compatible HTTP API on {}{} (model id {})", options_.listen,
               options_.tls.enabled() ? " (HTTPS)" : "", options_.served_model_name);
}

void HttpServer::Stop() { server_->stop(); }

void HttpServer::Wait() {
  if (thread_.joinable()) thread_.join();
}

}  // namespace gemma3n::http
