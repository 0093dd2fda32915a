#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <functional>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/serve_metrics.h"
#include "cli/supervisor.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/args.h"
#include "common/config/model_config.h"
#include "common/hub/model_flag.h"
#include "common/logging/log.h"
#include "common/metrics/endpoint.h"
#include "common/process/process_alive.h"
#include "common/rpc/server.h"
#include "common/rpc/status.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n::cli {
namespace {

std::string BinaryDir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

// Where everything of one `gemma3n serve` lives, and the flags every child gets.
struct ServeLayout {
  std::string model;    // absolute model directory
  std::string level;    // --log-level for every child
  std::string bin;      // directory of the service binaries
  std::string run_dir;  // the internal services' unix sockets
  std::string ple;      // the PLE service's address
  bool on_demand = false;         // --encoders on-demand
  std::string encoder_idle_stop;  // --encoder-idle-stop, as the encoders' --idle-exit
};

// The directory for the sockets: --run-dir, or a private one under /tmp
// (`own`: removed at the end).
// serve-<pid> entries of `parent` whose serve is no longer running.
void RemoveRunDirsOfDeadServes(const std::string& parent) {
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(parent, error)) {
    const std::string name = entry.path().filename().string();
    int pid = 0;
    if (name.rfind("serve-", 0) != 0 || !absl::SimpleAtoi(name.substr(6), &pid) || ProcessAlive(pid)) continue;
    std::filesystem::remove_all(entry.path(), error);
    spdlog::info("removed {} (left by serve pid {}, no longer running)", entry.path().string(), pid);
  }
}

absl::StatusOr<std::string> MakeRunDir(const Args& args, bool& own) {
  std::string run_dir = args.Get("run-dir").value_or("");
  own = run_dir.empty();
  if (!own) {
    std::filesystem::create_directories(run_dir);
    return run_dir;
  }
  // In the user's private socket directory (0700), named after this serve's
  // pid; the run directories of serve processes that were killed (SIGKILL
  // leaves no chance to clean up) are removed first.
  ASSIGN_OR_RETURN(const std::string parent, PrivateSocketDir());
  RemoveRunDirsOfDeadServes(parent);
  const std::string dir = absl::StrCat(parent, "/serve-", ::getpid());
  std::error_code error;
  std::filesystem::remove_all(dir, error);  // a reused pid's leftovers
  if (!std::filesystem::create_directory(dir, error)) {
    return absl::InternalError(absl::StrCat("cannot create the run directory ", dir, ": ", error.message()));
  }
  return dir;
}

absl::Status StartPleService(Supervisor& supervisor, const ServeLayout& at, const Args& args) {
  std::vector<std::string> argv = {at.bin + "/gemma3n-ple-service", "--model", at.model, "--listen", at.ple,
                                   "--log-level", at.level};
  if (auto mb = args.Get("ple-cache-mb")) argv.insert(argv.end(), {"--cache-mb", *mb});
  return supervisor.Start({"ple-service", argv, at.ple});
}

// The text worker's flags `serve` takes and hands on unchanged (the worker
// checks them); --context goes to the gateway too.
constexpr const char* kTextWorkerFlags[] = {"threads", "max-sequences", "context",    "prefix-cache-mb",
                                            "profiles", "weights",      "weight-cache"};

// `count` text workers; each one's address goes to `gateway_argv` and `addresses`.
absl::Status StartTextWorkers(Supervisor& supervisor, const ServeLayout& at, const Args& args, int count,
                              std::vector<std::string>& gateway_argv, std::vector<std::string>& addresses) {
  for (int i = 0; i < count; ++i) {
    const std::string addr = absl::StrCat("unix:", at.run_dir, "/text-", i, ".sock");
    std::vector<std::string> a = {at.bin + "/gemma3n-text-worker", "--model", at.model, "--listen", addr,
                                  "--ple", at.ple, "--log-level", at.level};
    for (const char* flag : kTextWorkerFlags) {
      if (auto v = args.Get(flag)) a.insert(a.end(), {absl::StrCat("--", flag), *v});
    }
    if (args.Has("preload")) a.push_back("--preload");
    RETURN_IF_ERROR(supervisor.Start({absl::StrCat("text-worker-", i), a, addr}));
    addresses.push_back(addr);
    gateway_argv.insert(gateway_argv.end(), {"--text-worker", addr});
  }
  return absl::OkStatus();
}

// Encoders: for the towers the checkpoint has, unless turned off.
absl::Status StartEncoders(Supervisor& supervisor, const ServeLayout& at, const Args& args,
                           const ModelConfig& config, std::vector<std::string>& gateway_argv,
                           std::vector<std::string>& addresses) {
  struct Encoder { const char* kind; bool present; const char* off_flag; const char* prefix; };
  for (const Encoder& e : {Encoder{"vision", config.has_vision, "no-vision", "model.vision_tower."},
                           Encoder{"audio", config.has_audio, "no-audio", "model.audio_tower."}}) {
    if (!e.present || args.Has(e.off_flag)) continue;
    // A config can name a tower whose weights the files lack (a text-only
    // export or slice): its worker could never start, so it is not started.
    absl::StatusOr<std::unique_ptr<Checkpoint>> tower = Checkpoint::Open(at.model, {e.prefix});
    if (tower.ok() && (*tower)->TensorNames().empty()) {
      spdlog::warn("{} has a {}_config but no {}* tensors: no {} worker (requests with {} get UNAVAILABLE)", at.model,
                   e.kind, e.prefix, e.kind, e.kind);
      continue;
    }
    const std::string binary = absl::StrCat(at.bin, "/gemma3n-", e.kind, "-worker");
    const std::string addr = absl::StrCat("unix:", at.run_dir, "/", e.kind, ".sock");
    std::vector<std::string> a = {binary, "--model", at.model, "--listen", addr, "--log-level", at.level};
    if (auto size = args.Get("image-size"); size && std::string(e.kind) == "vision") {
      a.insert(a.end(), {"--image-size", *size});
    }
    if (at.on_demand) {
      a.insert(a.end(), {"--idle-exit", at.encoder_idle_stop});
    } else {
      addresses.push_back(addr);  // up before "ready"
    }
    RETURN_IF_ERROR(supervisor.Start({absl::StrCat(e.kind, "-worker"), a, addr, at.on_demand}));
    gateway_argv.insert(gateway_argv.end(), {absl::StrCat("--", e.kind, "-worker"), addr});
  }
  return absl::OkStatus();
}

// A tick for Supervisor::Run that announces readiness once every address
// accepts connections. Channels only now: gRPC's threads should not exist
// while the supervisor forks.
std::function<void()> ReadinessAnnouncer(const std::vector<std::string>& addresses, const std::string& listen,
                                         const ServeLayout& at) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& a : addresses) channels.push_back(MakeChannel(a));
  auto announced = std::make_shared<bool>(false);
  return [channels, announced, listen, at] {
    if (*announced) return;
    for (const auto& c : channels) {
      if (!c->WaitForConnected(std::chrono::system_clock::now() + std::chrono::milliseconds(20))) return;
    }
    *announced = true;
    std::printf("gemma3n serve: ready on %s (model %s; internal sockets in %s)\n", listen.c_str(), at.model.c_str(),
                at.run_dir.c_str());
    std::fflush(stdout);
  };
}

// What the gateway asks of serve: an encoder started for a request.
class ServeControlService final : public internal::v1::ServeControl::Service {
 public:
  explicit ServeControlService(Supervisor& supervisor) : supervisor_(supervisor) {}
  grpc::Status StartWorker(grpc::ServerContext*, const internal::v1::StartWorkerRequest* request,
                           internal::v1::StartWorkerResponse* response) override {
    absl::StatusOr<bool> running = supervisor_.Demand(absl::StrCat(request->kind(), "-worker"));
    if (!running.ok()) return ToGrpcStatus(running.status());
    response->set_was_running(*running);
    return grpc::Status::OK;
  }

 private:
  Supervisor& supervisor_;
};

// The gateway's flags `serve` takes and hands on unchanged (the gateway
// checks them); --context also goes to the text workers.
constexpr const char* kGatewayFlags[] = {"context",          "http",           "max-new-tokens", "max-concurrent",
                                         "max-queued",       "max-request-mb", "request-timeout-s",
                                         "served-model-name", "api-key-file",  "tls-cert",
                                         "tls-key",          "tls-client-ca"};

void PassGatewayFlags(const Args& args, std::vector<std::string>& gateway_argv) {
  for (const char* flag : kGatewayFlags) {
    if (auto v = args.Get(flag)) gateway_argv.insert(gateway_argv.end(), {absl::StrCat("--", flag), *v});
  }
}

}  // namespace

absl::Status RunServe(const std::vector<std::string>& argv) {
  std::set<std::string> flags = {"model",      "listen",   "run-dir",           "text-workers",
                                 "ple-cache-mb", "image-size", "log-level", "encoders", "encoder-idle-stop",
                                 metrics::kMetricsFlag};
  flags.insert(std::begin(kTextWorkerFlags), std::end(kTextWorkerFlags));
  flags.insert(std::begin(kGatewayFlags), std::end(kGatewayFlags));
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, flags, {"no-vision", "no-audio", "preload"}));
  ServeLayout at;
  at.level = args.Get("log-level").value_or("info");
  RETURN_IF_ERROR(SetLogLevel(at.level));
  ASSIGN_OR_RETURN(at.model, hub::ModelDirFlag(args));  // resolved once: the children get the directory
  at.model = std::filesystem::absolute(at.model).string();
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(at.model + "/config.json"));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  const std::string listen = args.Get("listen").value_or("127.0.0.1:50051");
  ASSIGN_OR_RETURN(int64_t text_workers, args.Int("text-workers", 1));
  if (text_workers < 1 || text_workers > 64) return absl::InvalidArgumentError("--text-workers must be in [1, 64]");
  bool own_run_dir = false;
  ASSIGN_OR_RETURN(at.run_dir, MakeRunDir(args, own_run_dir));
  at.bin = BinaryDir();
  at.ple = absl::StrCat("unix:", at.run_dir, "/ple.sock");
  const std::string encoders = args.Get("encoders").value_or("always");
  if (encoders != "always" && encoders != "on-demand") {
    return absl::InvalidArgumentError("--encoders must be always or on-demand");
  }
  at.on_demand = encoders == "on-demand";
  ASSIGN_OR_RETURN(const absl::Duration idle_stop, args.Duration("encoder-idle-stop", absl::Minutes(5)));
  at.encoder_idle_stop = absl::FormatDuration(idle_stop);

  Supervisor supervisor;
  std::unique_ptr<ServeMetrics> serve_metrics;  // --metrics: one endpoint for every process
  if (auto flag = args.Get(metrics::kMetricsFlag)) {
    ASSIGN_OR_RETURN(const HostPort address, ParseHostPort(metrics::kMetricsFlag, *flag));
    ASSIGN_OR_RETURN(serve_metrics, ServeMetrics::Start(address));
    supervisor.SetHooks([&](ChildSpec& spec) { return serve_metrics->AddChild(spec); },
                        [&](const std::string& child) { serve_metrics->CountRestart(child); });
  }
  std::vector<std::string> addresses;  // must be up before "ready"
  // Serve probes the gateway on a plaintext unix socket of its own, so the
  // checks work whatever --listen is (TLS, mTLS, another host's address).
  const std::string gateway_local = absl::StrCat("unix:", at.run_dir, "/gateway.sock");
  std::vector<std::string> gateway_argv = {at.bin + "/gemma3n-gateway", "--model", at.model, "--listen", listen,
                                           "--local-listen", gateway_local, "--ple", at.ple, "--log-level", at.level};
  RETURN_IF_ERROR(StartPleService(supervisor, at, args));
  RETURN_IF_ERROR(StartTextWorkers(supervisor, at, args, static_cast<int>(text_workers), gateway_argv, addresses));
  RETURN_IF_ERROR(StartEncoders(supervisor, at, args, config, gateway_argv, addresses));
  PassGatewayFlags(args, gateway_argv);
  // Encoders on demand: the gateway asks serve to start one (ServeControl).
  const std::string control = absl::StrCat("unix:", at.run_dir, "/serve.sock");
  if (at.on_demand) gateway_argv.insert(gateway_argv.end(), {"--on-demand-control", control});
  RETURN_IF_ERROR(supervisor.Start({"gateway", gateway_argv, gateway_local}));
  ServeControlService control_service(supervisor);
  std::unique_ptr<grpc::Server> control_server;
  if (at.on_demand) {
    ServerOptions control_options;
    control_options.listen = control;
    control_options.services = {&control_service};
    ASSIGN_OR_RETURN(control_server, StartServer(control_options));
  }

  addresses.push_back(gateway_local);
  const absl::Status run_status = supervisor.Run(ReadinessAnnouncer(addresses, listen, at));
  if (control_server) control_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  supervisor.StopAll(std::chrono::seconds(5));
  if (own_run_dir) {
    std::error_code ec;
    std::filesystem::remove_all(at.run_dir, ec);
  }
  spdlog::info("all services stopped");
  return run_status;
}

}  // namespace gemma3n::cli
