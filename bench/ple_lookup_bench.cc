// gemma3n-ple-bench: the shared-memory round trip of a PLE lookup, as a text
// worker sees it (ShmPerLayerEmbeddings::Lookup), warm: median and p99 per
// lookup of 1 token (decoding) and per token of 64- and 512-token lookups
// (prompts), and the PLE service's memory figures from GetStats.
//
//   build/bin/gemma3n-ple-bench --addr unix:/tmp/gemma3n-ple.sock   (a running gemma3n-ple-service)
//   build/bin/gemma3n-ple-bench --model DIR [--cache-mb N]            (a service inside this process)
//       [--iters N]   lookups of 1 token (N/4 of 64 tokens, N/20 of 512; default 20000)
//       [--spin-us N] the client's busy-wait before sleeping (default: the library's, 50)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/logging/log.h"
#include "common/process/proc_status.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"
#include "ple_service/client/shm_per_layer_embeddings.h"
#include "ple_service/ple_server.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

using Clock = std::chrono::steady_clock;

struct Timing {
  double median_us = 0;
  double p99_us = 0;
};

Timing Summarise(std::vector<double> us) {
  std::sort(us.begin(), us.end());
  return {us[us.size() / 2], us[std::min(us.size() - 1, us.size() * 99 / 100)]};
}

// Times `iters` lookups of `tokens` random ids each, after one untimed pass
// over the same ids (pages of the table faulted in, cache filled, warm).
absl::StatusOr<Timing> TimeLookups(const PerLayerEmbeddings& ple, int64_t vocab, int tokens, int iters) {
  std::mt19937 rng(tokens);
  std::uniform_int_distribution<int> id(0, static_cast<int>(vocab) - 1);
  std::vector<std::vector<int>> batches(iters, std::vector<int>(tokens));
  for (auto& b : batches) {
    for (int& x : b) x = id(rng);
  }
  std::vector<float> out(static_cast<size_t>(tokens) * ple.row_width());
  for (const auto& b : batches) RETURN_IF_ERROR(ple.Lookup(b, out.data()));
  std::vector<double> us;
  us.reserve(iters);
  for (const auto& b : batches) {
    const auto t0 = Clock::now();
    RETURN_IF_ERROR(ple.Lookup(b, out.data()));
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  return Summarise(std::move(us));
}

absl::Status PrintTable(const char* title, const PerLayerEmbeddings& ple, int64_t vocab, int64_t iters) {
  std::printf("\n%s\n", title);
  std::printf("%8s %8s %12s %12s %16s %16s\n", "tokens", "lookups", "median_us", "p99_us", "median_us/token",
              "p99_us/token");
  for (int tokens : {1, 64, 512}) {
    const int n = static_cast<int>(std::max<int64_t>(50, tokens == 1 ? iters : tokens == 64 ? iters / 4 : iters / 20));
    ASSIGN_OR_RETURN(Timing t, TimeLookups(ple, vocab, tokens, n));
    std::printf("%8d %8d %12.2f %12.2f %16.3f %16.3f\n", tokens, n, t.median_us, t.p99_us, t.median_us / tokens,
                t.p99_us / tokens);
  }
  return absl::OkStatus();
}

double Mb(int64_t bytes) { return bytes / 1048576.0; }

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"addr", "model", "cache-mb", "iters", "spin-us"}, {}));
  ASSIGN_OR_RETURN(int64_t iters, args.Int("iters", 20000));
  ASSIGN_OR_RETURN(int64_t cache_mb, args.Int("cache-mb", 0));
  ShmPleClientOptions options;
  ASSIGN_OR_RETURN(int64_t spin_us, args.Int("spin-us", options.spin.count()));
  options.spin = std::chrono::microseconds(spin_us);
  if (iters < 1 || cache_mb < 0) return absl::InvalidArgumentError("--iters must be >= 1, --cache-mb >= 0");
  if (args.Has("addr") == args.Has("model")) return absl::InvalidArgumentError("give one of --addr or --model");

  std::unique_ptr<ple::PleServer> server;  // --model: the service runs in this process
  std::string addr;
  if (auto model = args.Get("model")) {
    ASSIGN_OR_RETURN(auto table, ple::PleTable::Open(*model, cache_mb << 20));
    addr = "unix:/tmp/gemma3n-ple-bench-" + std::to_string(::getpid()) + ".sock";
    ASSIGN_OR_RETURN(server, ple::PleServer::Start(std::move(table), addr));
  } else {
    addr = *args.Get("addr");
  }
  ASSIGN_OR_RETURN(auto client, ShmPerLayerEmbeddings::Connect(addr, "ple-bench", 512, /*expected_row_width=*/0, options));
  std::printf("PLE service at %s%s: vocab %lld, row width %lld floats (%lld bytes as f32)\n", addr.c_str(),
              server ? " (in this process)" : "", static_cast<long long>(client->vocab()),
              static_cast<long long>(client->row_width()), static_cast<long long>(client->row_width() * 4));
  RETURN_IF_ERROR(PrintTable("shared-memory round trip (ShmPerLayerEmbeddings::Lookup)", *client, client->vocab(),
                             iters));
  if (server) {
    RETURN_IF_ERROR(PrintTable("for comparison: the table read in-process (PleTable::Lookup, no IPC)",
                               server->table(), client->vocab(), iters));
  }

  ASSIGN_OR_RETURN(internal::v1::PleStats s, client->GetStats());
  std::printf("\nPLE service%s: RSS %.1f MB; table %.2f MB mapped, %.2f MB resident; cache %.2f / %.2f MB "
              "(%lld hits, %lld misses); %lld lookups, %lld rows; %d attached\n",
              server ? " (this process: bench + service)" : "", Mb(s.process_resident_bytes()), Mb(s.table_bytes()),
              Mb(s.table_resident_bytes()), Mb(s.cache_bytes()), Mb(s.cache_limit_bytes()),
              static_cast<long long>(s.cache_hits()), static_cast<long long>(s.cache_misses()),
              static_cast<long long>(s.lookups()), static_cast<long long>(s.rows()), s.attached_clients());
  if (!server) std::printf("bench client: RSS %.1f MB\n", ProcStatusGb("VmRSS") * 1e6 / 1024);
  client.reset();
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::BlockShutdownSignals();
  gemma3n::InitLogging("ple-bench");
  spdlog::set_level(spdlog::level::warn);
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help") {
    std::fputs("usage: gemma3n-ple-bench (--addr ADDR | --model DIR [--cache-mb N]) [--iters N] [--spin-us N]\n",
               args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  return gemma3n::ExitWithStatus("gemma3n-ple-bench", gemma3n::Run(args));
}
