// The gateway's OpenAI-compatible HTTP API (cpp-httplib): each request is
// translated to the public gemma3n.v1 protos and sent to the gateway's own
// Gemma service over an in-process gRPC channel, so validation, the chat
// template, limits, admission, encoders, streaming, stop strings and
// cancellation are exactly the gRPC path's. This file is the glue: routes,
// the calls, streaming as server-sent events, one log line per request.
#pragma once

#include "common/rpc/server.h"

#include <cstdint>
#include <memory>
#include <string>

#include "common/rpc/api_keys.h"
#include <thread>

#include "common/rpc/service_main.h"

namespace httplib {
class Server;
}

namespace gemma3n::http {

struct HttpOptions {
  std::string listen;             // host:port
  std::string served_model_name;  // the `model` id of the full model
  int64_t max_request_bytes = kDefaultPublicRequestBytes;  // bodies over it: 413 (--max-request-mb)
  // Requests served at once; each waiting or running generation holds one,
  // so at least the gateway's running + queued limit (fewer would queue
  // requests inside the HTTP server instead of answering 429).
  int threads = 8;
  // --api-key-file: every route but /health needs "Authorization: Bearer KEY".
  ApiKeys api_keys;
  // --tls-cert / --tls-key (and --tls-client-ca): HTTPS with the gRPC
  // port's certificate; off: plain HTTP.
  TlsFiles tls;
};

class HttpServer final : public CompanionServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer() override;

  absl::Status Bind() override;  // InvalidArgument naming the address when it cannot be bound
  void Start(grpc::Server& server) override;
  void Stop() override;
  void Wait() override;

  int port() const { return port_; }

 private:
  class Routes;
  const HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::unique_ptr<Routes> routes_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace gemma3n::http
