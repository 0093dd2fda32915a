// gemma3n-ple-service: owns Gemma 3n's per-layer embedding table (mapped from
// the checkpoint) and serves its rows to text workers over POSIX shared
// memory; gRPC (gemma3n.internal.v1.PleService) is only the control plane.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/hub/model_flag.h"
#include "common/logging/log.h"
#include "common/metrics/endpoint.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"
#include "ple_service/ple_server.h"
#include "ple_service/ple_table.h"
#include "spdlog/spdlog.h"

namespace {

constexpr char kUsage[] = R"(usage: gemma3n-ple-service --model DIR|ORG/NAME [--listen ADDR] [--cache-mb N] [--max-clients N] [--log-level L]
                          [--metrics HOST:PORT]

Serves the per-layer embedding rows of the checkpoint in DIR to text workers
over shared memory (/dev/shm/gemma3n-ple-<pid>-<n>-<random>, one segment per attached
worker); control calls (Attach, Detach, GetStats) over gRPC on ADDR.

  --listen ADDR    unix:PATH or host:port (default unix:DIR/ple.sock, DIR the
                   user's private socket directory: $XDG_RUNTIME_DIR/gemma3n
                   or /tmp/gemma3n-$UID, mode 0700)
  --cache-mb N     keep up to N MB of hot rows in RAM as f32 (default 0 = off;
                   rows are then read through the checkpoint's mapping)
  --max-clients N  text workers attached at once (default 64); beyond it an
                   Attach is RESOURCE_EXHAUSTED
  --log-level L    trace, debug, info, warn, error, off (default info)
)";
constexpr char kUsageTail[] = R"(
Stops on SIGINT/SIGTERM, removing its segments. At start it removes segments
left by a PLE service that is no longer running.
)";

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(gemma3n::Args args, gemma3n::Args::Parse(argv, {"model", "listen", "cache-mb", "max-clients", "log-level", gemma3n::metrics::kMetricsFlag}, {}));
  if (auto level = args.Get("log-level")) RETURN_IF_ERROR(gemma3n::SetLogLevel(*level));
  ASSIGN_OR_RETURN(const std::unique_ptr<gemma3n::metrics::MetricsEndpoint> metrics_endpoint,
                   gemma3n::metrics::StartMetricsFlag(args));
  ASSIGN_OR_RETURN(std::string model, gemma3n::hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(const std::string listen, gemma3n::AddressFlag(args, "listen", "ple"));
  ASSIGN_OR_RETURN(int64_t cache_mb, args.Int("cache-mb", 0));
  if (cache_mb < 0) return absl::InvalidArgumentError("--cache-mb must be >= 0");
  ASSIGN_OR_RETURN(int64_t max_clients, args.Int("max-clients", gemma3n::ple::ShmServer::kDefaultMaxClients));
  if (max_clients < 1 || max_clients > 4096) return absl::InvalidArgumentError("--max-clients must be in [1, 4096]");

  absl::StatusOr<std::unique_ptr<gemma3n::ple::PleTable>> table =
      gemma3n::ple::PleTable::Open(model, cache_mb << 20);
  if (!table.ok()) {
    // A bad model directory is bad input (exit code 2), whatever the cause.
    return absl::InvalidArgumentError(absl::StrCat("cannot open the per-layer embeddings of --model ", model, ": ",
                                                   table.status().message()));
  }
  const gemma3n::ple::PleTableStats stats = (*table)->Stats();
  spdlog::info("per-layer embeddings of {}: {} rows x {} floats, {:.1f} MB mapped, cache {} MB", model, (*table)->vocab(),
               (*table)->row_width(), stats.table_bytes / 1048576.0, cache_mb);
  ASSIGN_OR_RETURN(auto server, gemma3n::ple::PleServer::Start(std::move(*table), listen, static_cast<int>(max_clients)));
  gemma3n::WaitForShutdownSignal();
  server->Stop();
  return absl::OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  // First: every thread started later (gRPC, segment threads) inherits the
  // blocked mask, so SIGINT/SIGTERM reach only WaitForShutdownSignal.
  gemma3n::BlockShutdownSignals();
  gemma3n::InitLogging("ple-service");
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    const std::string usage = std::string(kUsage) + gemma3n::metrics::kMetricsFlagUsage + kUsageTail;
    std::fputs(usage.c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  return gemma3n::ExitWithStatus("gemma3n-ple-service", Run(args));
}
