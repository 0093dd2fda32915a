// gemma3n-gateway: the public gemma3n.v1.Gemma API. Reads only config.json and
// the tokenizer of the model directory (no weights); the work is done by the
// text workers, vision and audio encoders it is pointed at.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/exit_status.h"
#include "common/hub/model_flag.h"
#include "common/logging/log.h"
#include "common/metrics/endpoint.h"
#include "common/rpc/service_main.h"
#include "common/status/status_macros.h"
#include "gateway/admission.h"
#include "gateway/gemma_service.h"
#include "gateway/http/http_server.h"
#include "gateway/http/model_ids.h"
#include "gateway/worker_pool.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

constexpr char kUsage[] = R"(usage: gemma3n-gateway --model DIR [flags]

  --listen ADDR           public address (default 127.0.0.1:50051; unix:PATH works too)
  --text-worker ADDR      a text worker (repeatable; default unix:DIR/text.sock in the
                          user's private socket directory, as the text worker's --listen)
  --vision-worker ADDR    a vision encoder (repeatable; none: image parts are refused)
  --audio-worker ADDR     an audio encoder (repeatable; none: audio parts are refused)
                          A worker ADDR is unix:PATH or host:port (one process), or
                          dns:///NAME:PORT / ipv4:IP:PORT,IP:PORT,... (many, spread by
                          gRPC's round_robin over those whose health says SERVING)
  --ple ADDR              the PLE service, for GetModelInfo only
  --context N             prompt + generated tokens per request (default: the
                          model's context, at most 32768)
  --max-new-tokens N      default when a request sets none (512)
  --max-concurrent N      requests running at once (16)
  --max-queued N          requests waiting for a slot, served first come, first
                          served; one more is RESOURCE_EXHAUSTED (64)
  --max-request-mb N      largest request accepted, images and audio included (32)
  --image-size N          input size asked of the vision encoders (default: theirs)
  --request-timeout-s N   a request whose client set no earlier deadline ends
                          DEADLINE_EXCEEDED after N s, waiting included (1800; 0 = none)
  --http ADDR             also serve the OpenAI-compatible HTTP API on host:port
                          (off by default), e.g. 127.0.0.1:8080
  --served-model-name N   the HTTP API's model id (default: the model directory's
                          name; for a hub snapshot .../models--ORG--NAME/..., NAME)
  --api-key-file FILE     require "authorization: Bearer KEY" with one of the file's
                          keys (one a line) on every call but the health check
                          (gRPC metadata, or the HTTP Authorization header)
)";
constexpr char kUsageTail[] = R"(  --on-demand-control ADDR  serve's control socket: when no encoder of a kind a
                          request needs is up, ask serve to start it and wait
  --local-listen unix:PATH  also serve plaintext on this unix socket, for local
                          supervisors and health probes when --listen is TLS
  --log-level LEVEL       trace, debug, info, warn, error (info)
The model directory gives config.json and tokenizer.json / tokenizer.model.
)";

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, WithTlsFlags(
                                          {"model", "listen", "text-worker", "vision-worker", "audio-worker", "ple",
                                           "context", "max-new-tokens", "max-concurrent", "max-queued",
                                           "max-request-mb", "image-size", "request-timeout-s", "http",
                                           "served-model-name", "api-key-file", "worker-tls-ca", "worker-tls-cert",
                                           "worker-tls-key", "local-listen", "on-demand-control", "log-level",
                                           metrics::kMetricsFlag}),
                                          {}));
  if (auto level = args.Get("log-level")) RETURN_IF_ERROR(SetLogLevel(*level));
  ASSIGN_OR_RETURN(const std::unique_ptr<metrics::MetricsEndpoint> metrics_endpoint, metrics::StartMetricsFlag(args));
  ASSIGN_OR_RETURN(std::string model_dir, hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(model_dir + "/config.json"));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, LoadModelTokenizer(model_dir, json));

  GatewayOptions options;
  const int64_t model_context = std::min<int64_t>(config.text.max_position_embeddings, kGemma3nContextTokens);
  ASSIGN_OR_RETURN(options.context_limit, args.Int("context", model_context));
  ASSIGN_OR_RETURN(int64_t max_new, args.Int("max-new-tokens", options.default_max_new_tokens));
  ASSIGN_OR_RETURN(int64_t max_concurrent, args.Int("max-concurrent", 16));
  ASSIGN_OR_RETURN(int64_t max_queued, args.Int("max-queued", 64));
  ASSIGN_OR_RETURN(int64_t max_request_mb, args.Int("max-request-mb", kDefaultPublicRequestBytes >> 20));
  ASSIGN_OR_RETURN(int64_t image_size, args.Int("image-size", 0));
  ASSIGN_OR_RETURN(int64_t request_timeout_s, args.Int("request-timeout-s", kDefaultRequestTimeout.count()));
  if (options.context_limit < 2 || options.context_limit > config.text.max_position_embeddings) {
    return absl::InvalidArgumentError(absl::StrCat("--context must be in [2, ", config.text.max_position_embeddings, "]"));
  }
  if (max_new < 1 || max_concurrent < 1 || max_queued < 0 || max_request_mb < 1 || max_request_mb > 2000 ||
      image_size < 0 || request_timeout_s < 0) {
    return absl::InvalidArgumentError(
        "--max-new-tokens, --max-concurrent >= 1; --max-queued >= 0; --max-request-mb in [1, 2000]; --image-size >= 0; "
        "--request-timeout-s >= 0");
  }
  options.default_max_new_tokens = static_cast<int>(max_new);
  options.image_size = static_cast<int>(image_size);
  if (auto control = args.Get("on-demand-control")) options.on_demand = std::make_shared<OnDemandStarter>(*control);
  options.request_timeout = std::chrono::seconds(request_timeout_s);
  if (auto key_file = args.Get("api-key-file")) {
    ASSIGN_OR_RETURN(options.api_keys, ApiKeys::FromFile(*key_file));
  }
  ASSIGN_OR_RETURN(const TlsFiles tls, TlsFlags(args));
  options.ple_address = args.Get("ple").value_or("");

  std::vector<std::string> text_addrs = args.GetAll("text-worker");
  if (text_addrs.empty()) {
    ASSIGN_OR_RETURN(std::string text_default, DefaultServiceAddress("text"));
    text_addrs.push_back(text_default);
  }
  ASSIGN_OR_RETURN(const WorkerTls worker_tls, WorkerTlsFlags(args));
  WorkerPool text("text", text_addrs, kDefaultConnectProbe, worker_tls);
  WorkerPool vision("vision", args.GetAll("vision-worker"), kDefaultConnectProbe, worker_tls);
  WorkerPool audio("audio", args.GetAll("audio-worker"), kDefaultConnectProbe, worker_tls);
  for (WorkerPool* pool : {&text, &vision, &audio}) pool->StartLivenessMonitor(RoutingLivenessPolicy());
  Admission admission(static_cast<int>(max_concurrent), static_cast<int>(max_queued));
  GemmaService service(config, *tokenizer, text, vision, audio, admission, options);

  ServerOptions server_options;
  server_options.listen = args.Get("listen").value_or("127.0.0.1:50051");
  server_options.max_message_bytes = max_request_mb << 20;
  server_options.services = {&service};
  server_options.tls = tls;
  server_options.local_listen = args.Get("local-listen").value_or("");
  std::unique_ptr<http::HttpServer> http_api;
  if (auto http_listen = args.Get("http")) {
    http::HttpOptions http_options;
    http_options.listen = *http_listen;
    http_options.served_model_name =
        args.Get("served-model-name").value_or(http::DefaultServedModelName(model_dir));
    http_options.max_request_bytes = server_options.max_message_bytes;
    http_options.threads = static_cast<int>(max_concurrent + max_queued) + 4;
    http_options.api_keys = options.api_keys;
    http_options.tls = tls;
    http_api = std::make_unique<http::HttpServer>(http_options);
  }
  return ServeUntilSignal(server_options,
                          absl::StrCat("gateway ready: ", text.instances().size(), " text, ",
                                       vision.instances().size(), " vision, ", audio.instances().size(),
                                       " audio worker(s); context ", options.context_limit, "; ", max_concurrent,
                                       " concurrent, ", max_queued, " queued"),
                          http_api.get());
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  const std::string usage = std::string(gemma3n::kUsage) + gemma3n::kTlsFlagsUsage + gemma3n::kWorkerTlsFlagsUsage +
                            gemma3n::metrics::kMetricsFlagUsage + gemma3n::kUsageTail;
  return gemma3n::RunServiceMain(argc, argv, "gateway", usage, gemma3n::Run);
}
