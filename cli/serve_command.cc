#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/supervisor.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/args.h"
#include "common/config/model_config.h"
#include "common/logging/log.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n::cli {
namespace {

std::string BinaryDir() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : self.parent_path().string();
}

}  // namespace

absl::Status RunServe(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          {"model", "listen", "run-dir", "text-workers", "threads", "max-sequences",
                                           "context", "ple-cache-mb", "image-size", "profiles", "weights", "weight-cache",
                                           "log-level"},
                                          {"no-vision", "no-audio", "preload"}));
  const std::string level = args.Get("log-level").value_or("info");
  RETURN_IF_ERROR(SetLogLevel(level));
  ASSIGN_OR_RETURN(std::string model, args.Required("model"));
  model = std::filesystem::absolute(model).string();
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(model + "/config.json"));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  const std::string listen = args.Get("listen").value_or("127.0.0.1:50051");
  ASSIGN_OR_RETURN(int64_t text_workers, args.Int("text-workers", 1));
  if (text_workers < 1 || text_workers > 64) return absl::InvalidArgumentError("--text-workers must be in [1, 64]");

  // Unix sockets of the internal services live in a private directory.
  std::string run_dir = args.Get("run-dir").value_or("");
  const bool own_run_dir = run_dir.empty();
  if (own_run_dir) {
    char tmpl[] = "/tmp/gemma3n-serve-XXXXXX";
    if (!mkdtemp(tmpl)) return absl::InternalError("cannot create a directory under /tmp for the sockets");
    run_dir = tmpl;
  } else {
    std::filesystem::create_directories(run_dir);
  }
  const std::string bin = BinaryDir();
  const std::string ple = absl::StrCat("unix:", run_dir, "/ple.sock");

  Supervisor supervisor;
  std::vector<std::string> worker_addresses;  // must be up before "ready"
  std::vector<std::string> ple_argv = {bin + "/gemma3n-ple-service", "--model", model, "--listen", ple,
                                       "--log-level", level};
  if (auto mb = args.Get("ple-cache-mb")) ple_argv.insert(ple_argv.end(), {"--cache-mb", *mb});
  RETURN_IF_ERROR(supervisor.Start({"ple-service", ple_argv}));

  std::vector<std::string> gateway_argv = {bin + "/gemma3n-gateway", "--model", model, "--listen", listen,
                                           "--ple", ple, "--log-level", level};
  for (int i = 0; i < text_workers; ++i) {
    const std::string addr = absl::StrCat("unix:", run_dir, "/text-", i, ".sock");
    std::vector<std::string> a = {bin + "/gemma3n-text-worker", "--model", model, "--listen", addr,
                                  "--ple", ple, "--log-level", level};
    for (const char* flag : {"threads", "max-sequences", "context", "profiles", "weights", "weight-cache"}) {
      if (auto v = args.Get(flag)) a.insert(a.end(), {absl::StrCat("--", flag), *v});
    }
    if (args.Has("preload")) a.push_back("--preload");
    RETURN_IF_ERROR(supervisor.Start({absl::StrCat("text-worker-", i), a}));
    worker_addresses.push_back(addr);
    gateway_argv.insert(gateway_argv.end(), {"--text-worker", addr});
  }
  // Encoders: for the towers the checkpoint has, unless turned off.
  struct Encoder { const char* kind; bool present; const char* off_flag; };
  for (const Encoder& e : {Encoder{"vision", config.has_vision, "no-vision"},
                           Encoder{"audio", config.has_audio, "no-audio"}}) {
    if (!e.present || args.Has(e.off_flag)) continue;
    const std::string binary = absl::StrCat(bin, "/gemma3n-", e.kind, "-worker");
    const std::string addr = absl::StrCat("unix:", run_dir, "/", e.kind, ".sock");
    std::vector<std::string> a = {binary, "--model", model, "--listen", addr, "--log-level", level};
    if (auto size = args.Get("image-size"); size && std::string(e.kind) == "vision") {
      a.insert(a.end(), {"--image-size", *size});
    }
    RETURN_IF_ERROR(supervisor.Start({absl::StrCat(e.kind, "-worker"), a}));
    worker_addresses.push_back(addr);
    gateway_argv.insert(gateway_argv.end(), {absl::StrCat("--", e.kind, "-worker"), addr});
  }
  if (auto ctx = args.Get("context")) gateway_argv.insert(gateway_argv.end(), {"--context", *ctx});
  RETURN_IF_ERROR(supervisor.Start({"gateway", gateway_argv}));

  // Announce readiness once the gateway and every worker accept connections.
  // Channels only now: gRPC's threads should not exist while we fork.
  worker_addresses.push_back(listen);
  std::vector<std::shared_ptr<grpc::Channel>> internal_channels;
  for (const std::string& a : worker_addresses) internal_channels.push_back(MakeChannel(a));
  bool announced = false;
  const absl::Status run_status = supervisor.Run([&] {
    if (announced) return;
    for (const auto& c : internal_channels) {
      if (!c->WaitForConnected(std::chrono::system_clock::now() + std::chrono::milliseconds(20))) return;
    }
    announced = true;
    std::printf("gemma3n serve: ready on %s (model %s; internal sockets in %s)\n", listen.c_str(), model.c_str(),
                run_dir.c_str());
    std::fflush(stdout);
  });
  supervisor.StopAll(std::chrono::seconds(5));
  if (own_run_dir) {
    std::error_code ec;
    std::filesystem::remove_all(run_dir, ec);
  }
  spdlog::info("all services stopped");
  return run_status;
}

}  // namespace gemma3n::cli
