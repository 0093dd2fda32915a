#include "common/hub/model_flag.h"
#include "common/serving/encoder_worker.h"
#include "common/serving/idle_exit.h"

#include <chrono>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/kernels/thread_pool.h"
#include "common/logging/log.h"
#include "common/metrics/endpoint.h"
#include "common/rpc/service_main.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace ipb = gemma3n::internal::v1;

namespace {

// Encoding time per image, or per second of audio (a recording's spans
// together: their seconds are the recording's length).
void RecordEncodeTime(const std::string& kind, const std::vector<EncodedSpan>& spans, double seconds) {
  metrics::Registry& m = metrics::Process();
  if (kind == "vision") {
    m.Histogram(metrics::Metric::kImageEncodeDuration).Observe(seconds);
    return;
  }
  double audio_seconds = 0;
  for (const EncodedSpan& s : spans) audio_seconds += s.seconds;
  if (audio_seconds <= 0) return;
  m.Counter(metrics::Metric::kAudioInputSeconds).Increment(audio_seconds);
  m.Histogram(metrics::Metric::kAudioEncodeSecondsPerAudioSecond).Observe(seconds / audio_seconds);
}

// The worker's metrics exist from its start (at zero), so a scrape before
// the first request already shows them.
void InitEncoderMetrics(const std::string& kind) {
  metrics::Registry& m = metrics::Process();
  m.Counter(metrics::Metric::kEncoderRequests, {kind, metrics::CodeLabel(0)});
  if (kind == "vision") {
    m.Histogram(metrics::Metric::kImageEncodeDuration);
  } else {
    m.Counter(metrics::Metric::kAudioInputSeconds);
    m.Histogram(metrics::Metric::kAudioEncodeSecondsPerAudioSecond);
  }
}

absl::Status Encode(const MediaEncoderBackend& backend, std::mutex& mu, const std::string& kind,
                    const ipb::EncodeRequest& request, ipb::EncodeResponse* response,
                    const std::function<bool()>& cancelled) {
  if (request.data().empty()) return absl::InvalidArgumentError(absl::StrCat("the ", kind, " has no data"));
  const auto start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<EncodedSpan>> spans;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (cancelled && cancelled()) {
      spdlog::info("{} of {} bytes not encoded: its request was cancelled while it waited", kind,
                   request.data().size());
      return absl::CancelledError("the request was cancelled before its turn");
    }
    spans = backend.Encode(request.data(), request.mime_type(), request.image_size());
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!spans.ok()) {
    spdlog::info("{} of {} bytes refused: {}", kind, request.data().size(), spans.status().ToString());
    return spans.status();
  }
  RecordEncodeTime(kind, *spans, seconds);
  int rows = 0;
  for (const EncodedSpan& s : *spans) {
    ipb::SoftTokens* t = response->add_spans();
    t->set_rows(s.rows);
    t->set_width(s.width);
    t->set_f32(reinterpret_cast<const char*>(s.values.data()), s.values.size() * sizeof(float));
    t->set_seconds(s.seconds);
    rows += s.rows;
  }
  spdlog::info("{} of {} bytes: {} span(s), {} soft tokens in {:.3f} s", kind, request.data().size(),
               spans->size(), rows, seconds);
  return absl::OkStatus();
}

}  // namespace

absl::Status EncodeToProto(const MediaEncoderBackend& backend, std::mutex& mu, const std::string& kind,
                           const ipb::EncodeRequest& request, ipb::EncodeResponse* response,
                           const std::function<bool()>& cancelled) {
  const absl::Status status = Encode(backend, mu, kind, request, response, cancelled);
  metrics::Process()
      .Counter(metrics::Metric::kEncoderRequests, {kind, metrics::CodeLabel(static_cast<int>(status.code()))})
      .Increment();
  return status;
}

namespace {

template <typename Base>
class EncoderService final : public Base {
 public:
  EncoderService(const MediaEncoderBackend& backend, std::string kind, IdleExit& idle)
      : backend_(backend), kind_(std::move(kind)), idle_(idle) {}
  grpc::Status Encode(grpc::ServerContext* context, const ipb::EncodeRequest* request,
                      ipb::EncodeResponse* response) override {
    const IdleExit::Busy busy(idle_);
    return ToGrpcStatus(
        EncodeToProto(backend_, mu_, kind_, *request, response, [context] { return context->IsCancelled(); }));
  }

 private:
  const MediaEncoderBackend& backend_;
  const std::string kind_;
  IdleExit& idle_;
  std::mutex mu_;
};

absl::Status Serve(const std::vector<std::string>& argv, const std::string& kind,
                   const std::function<absl::StatusOr<std::unique_ptr<MediaEncoderBackend>>(
                       const EncoderWorkerFlags&)>& load) {
  std::set<std::string> flags =
      WithTlsFlags({"model", "listen", "threads", "idle-exit", "log-level", metrics::kMetricsFlag});
  if (kind == "vision") flags.insert("image-size");
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, flags, {}));
  if (auto level = args.Get("log-level")) RETURN_IF_ERROR(SetLogLevel(*level));
  ASSIGN_OR_RETURN(const std::unique_ptr<metrics::MetricsEndpoint> metrics_endpoint, metrics::StartMetricsFlag(args));
  InitEncoderMetrics(kind);
  EncoderWorkerFlags f;
  ASSIGN_OR_RETURN(f.model_dir, hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(int64_t size, args.Int("image-size", 0));
  if (size < 0 || size > 4096) return absl::InvalidArgumentError("--image-size must be in [0, 4096]");
  f.image_size = static_cast<int>(size);
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  ThreadPool pool(threads);
  f.pool = &pool;
  ASSIGN_OR_RETURN(const absl::Duration idle_limit, args.Duration("idle-exit", absl::ZeroDuration()));
  ASSIGN_OR_RETURN(std::unique_ptr<MediaEncoderBackend> backend, load(f));
  IdleExit idle(absl::ToChronoMilliseconds(idle_limit), kind + " worker");
  std::unique_ptr<grpc::Service> service;
  if (kind == "vision") {
    service = std::make_unique<EncoderService<ipb::VisionEncoder::Service>>(*backend, kind, idle);
  } else {
    service = std::make_unique<EncoderService<ipb::AudioEncoder::Service>>(*backend, kind, idle);
  }
  ServerOptions options;
  ASSIGN_OR_RETURN(options.listen, AddressFlag(args, "listen", kind));
  ASSIGN_OR_RETURN(options.tls, TlsFlags(args));
  options.services = {service.get()};
  return ServeUntilSignal(options, kind + " encoder ready");
}

}  // namespace

int RunEncoderWorker(int argc, char** argv, const std::string& kind,
                     const std::function<absl::StatusOr<std::unique_ptr<MediaEncoderBackend>>(
                         const EncoderWorkerFlags&)>& load) {
  const std::string usage = absl::StrCat("usage: gemma3n-", kind, "-worker --model DIR|ORG/NAME [--listen ADDR (default unix:DIR/", kind,
                                         ".sock, DIR = $XDG_RUNTIME_DIR/gemma3n or /tmp/gemma3n-$UID, mode 0700)] [--threads N]", kind == "vision" ? " [--image-size N]" : "",
                                         " [--idle-exit DURATION] [--log-level L]\n"
                                         "  --idle-exit DURATION  stop (exit 0) after this long without a request, e.g. 5m\n"
                                         "                        (0, the default: never); serve --encoders on-demand sets it\n",
                                         kTlsFlagsUsage, metrics::kMetricsFlagUsage);
  return RunServiceMain(argc, argv, kind + "-worker", usage,
                        [&](const std::vector<std::string>& args) { return Serve(args, kind, load); });
}

}  // namespace gemma3n
