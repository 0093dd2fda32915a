// gemma3n-text-worker: the Gemma 3n decoder as a gRPC service
// (gemma3n.internal.v1.TextWorker). Maps only the text core of the
// checkpoint; per-layer embedding rows come from the PLE service over shared
// memory (or, with --ple none, from the checkpoint in-process).
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/exit_status.h"
#include "common/hub/model_flag.h"
#include "common/kernels/thread_pool.h"
#include "common/logging/log.h"
#include "common/metrics/endpoint.h"
#include "common/rpc/service_main.h"
#include "common/status/status_macros.h"
#include "ple_service/client/shm_per_layer_embeddings.h"
#include "spdlog/spdlog.h"
#include "text_worker/serving/batch_scheduler.h"
#include "text_worker/serving/plan_registry.h"
#include "text_worker/serving/text_model_executor.h"
#include "text_worker/serving/text_worker_service.h"

namespace gemma3n {
namespace {

constexpr int64_t kDefaultPrefixCacheMb = 512;

constexpr char kUsage[] = R"(usage: gemma3n-text-worker --model DIR|ORG/NAME [flags]

  --listen ADDR          where to serve (default unix:DIR/text.sock, DIR the
                         user's private socket directory: $XDG_RUNTIME_DIR/gemma3n
                         or /tmp/gemma3n-$UID, mode 0700; host:port for TCP)
  --ple ADDR             the PLE service (default unix:DIR/ple.sock);
                         "none" reads the per-layer table from the checkpoint
                         in this process instead (maps its billions of
                         parameters here: development only)
  --ple-wait SECONDS     how long to wait for the PLE service at start (60)
  --max-sequences N      sequences decoded together, each with a KV cache (8)
  --max-queued N         requests waiting for a slot before RESOURCE_EXHAUSTED (64)
  --context N            tokens per sequence (default: the model's, 32768)
  --prefill-chunk N      prompt tokens per batched step (256)
  --prefix-cache-mb N    KV caches of finished sequences kept so that prompts
                         starting the same way (chat history, a shared system
                         prompt) skip prefilling that part; least recently
                         used out first; 0 turns it off (512)
  --threads N            compute threads (default: all cores)
  --preload              copy the weights into RAM at start
  --weights FORMAT       bf16 (the checkpoint's, default), int8 or int4
                         (quantized at load in 32-weight blocks: about half
                         or a third of the bytes read per token)
  --weight-cache DIR     where int8/int4 weights are cached after their
                         first conversion (default: gemma3n-cache/ in the
                         model directory, else ~/.cache/gemma3n-grpc/weights/);
                         "none" converts at every start
  --profiles FILE.csv    more MatFormer profiles (published CSV format)
  --log-level LEVEL      trace, debug, info, warn, error (info)
)";
const std::string kUsageWithMetrics = std::string(kUsage) + kTlsFlagsUsage + metrics::kMetricsFlagUsage;

absl::StatusOr<std::shared_ptr<const PerLayerEmbeddings>> ConnectPle(const std::string& address, int64_t width,
                                                                     int max_tokens, double wait_seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait_seconds);
  for (int attempt = 0;; ++attempt) {
    auto client = ShmPerLayerEmbeddings::Connect(address, absl::StrCat("text-worker-", getpid()), max_tokens, width);
    if (client.ok()) return std::shared_ptr<const PerLayerEmbeddings>(*std::move(client));
    if (client.status().code() != absl::StatusCode::kUnavailable || std::chrono::steady_clock::now() > deadline) {
      return client.status();
    }
    if (attempt == 0) spdlog::info("waiting for the PLE service at {}", address);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, WithTlsFlags(
                                          {"model", "listen", "ple", "ple-wait", "max-sequences", "max-queued",
                                           "context", "prefill-chunk", "prefix-cache-mb", "threads", "profiles",
                                           "weights", "weight-cache", "log-level", metrics::kMetricsFlag}),
                                          {"preload"}));
  if (auto level = args.Get("log-level")) RETURN_IF_ERROR(SetLogLevel(*level));
  ASSIGN_OR_RETURN(const std::unique_ptr<metrics::MetricsEndpoint> metrics_endpoint, metrics::StartMetricsFlag(args));
  ASSIGN_OR_RETURN(std::string model_dir, hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(const std::string listen, AddressFlag(args, "listen", "text"));
  ASSIGN_OR_RETURN(const std::string ple, AddressFlag(args, "ple", "ple"));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  SchedulerOptions sched;
  ASSIGN_OR_RETURN(int64_t max_sequences, args.Int("max-sequences", sched.max_sequences));
  ASSIGN_OR_RETURN(int64_t max_queued, args.Int("max-queued", sched.max_queued));
  ASSIGN_OR_RETURN(int64_t context, args.Int("context", 0));
  ASSIGN_OR_RETURN(int64_t prefill, args.Int("prefill-chunk", sched.prefill_tokens_per_step));
  ASSIGN_OR_RETURN(int64_t prefix_cache_mb, args.Int("prefix-cache-mb", kDefaultPrefixCacheMb));
  ASSIGN_OR_RETURN(double ple_wait, args.Double("ple-wait", 60.0));
  if (max_sequences < 1 || max_queued < 0 || context < 0 || prefill < 1 || prefix_cache_mb < 0 ||
      prefix_cache_mb > (int64_t{1} << 30)) {
    return absl::InvalidArgumentError(
        "--max-sequences and --prefill-chunk must be >= 1, --max-queued, --context and --prefix-cache-mb >= 0");
  }
  sched.max_sequences = static_cast<int>(max_sequences);
  sched.max_queued = static_cast<int>(max_queued);
  sched.context_limit = context;
  sched.prefill_tokens_per_step = static_cast<int>(prefill);
  sched.prefix_cache_bytes = prefix_cache_mb << 20;

  // The PLE row width comes from the config; read it before the weights.
  ThreadPool pool(threads);  // every computation of this process
  TextModel::Options options;
  options.pool = &pool;
  options.preload_weights = args.Has("preload");
  ASSIGN_OR_RETURN(options.weights, ParseWeightFormat(args.Get("weights").value_or("bf16")));
  options.weight_cache_dir = args.Get("weight-cache").value_or("");
  std::shared_ptr<const ShmPerLayerEmbeddings> shm;
  if (ple != "none") {
    ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(model_dir + "/config.json"));
    ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
    const int64_t width = static_cast<int64_t>(config.text.num_hidden_layers) * config.text.hidden_size_per_layer_input;
    ASSIGN_OR_RETURN(options.per_layer, ConnectPle(ple, width, sched.prefill_tokens_per_step + sched.max_sequences,
                                                   ple_wait));
    shm = std::static_pointer_cast<const ShmPerLayerEmbeddings>(options.per_layer);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<TextModel> model, TextModel::Load(model_dir, options));
  std::vector<SlicingProfile> extra;
  if (auto file = args.Get("profiles")) {
    ASSIGN_OR_RETURN(extra, LoadSlicingProfiles(*file));
  }
  PlanRegistry plans(model->text_config(), std::move(extra));
  const TextModelExecutor executor(*model);
  BatchScheduler scheduler(executor, sched);
  TextWorkerService service(*model, model_dir, scheduler, plans,
                            [shm] { return shm ? shm->attached() : true; });
  ServerOptions server_options;
  server_options.listen = listen;
  ASSIGN_OR_RETURN(server_options.tls, TlsFlags(args));
  server_options.services = {&service};
  return ServeUntilSignal(server_options, absl::StrCat("text worker ready: ", sched.max_sequences,
                                                       " sequences at once, context ", scheduler.context_limit(),
                                                       ", prefix cache ", prefix_cache_mb, " MB, PLE ", ple));
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  return gemma3n::RunServiceMain(argc, argv, "text-worker", gemma3n::kUsageWithMetrics, gemma3n::Run);
}
