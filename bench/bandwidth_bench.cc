// gemma3n-bandwidth: memory read bandwidth with T threads of the kernels'
// thread pool, over a buffer much larger than the caches (the way decoding
// streams the weights: every byte read once per token). Best of several
// passes, in GB/s (1e9 bytes), so a script can divide it by the weight bytes
// per token into the generation speed's upper bound.
//
//   build/bin/gemma3n-bandwidth [--threads 2] [--mb 2048] [--passes 5] [--format table|tsv|json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/bench_report.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/kernels/thread_pool.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

// Sum of 64-bit words: integer adds vectorize without reassociation limits
// and cost far less than a load, so the loop runs at the speed of memory.
uint64_t SumWords(const uint64_t* p, int64_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"threads", "mb", "passes", "format"}, {}));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  ASSIGN_OR_RETURN(int64_t mb, args.Int("mb", 2048));
  ASSIGN_OR_RETURN(int64_t passes, args.Int("passes", 5));
  const std::string format = args.Get("format").value_or("table");
  if (mb < 1 || passes < 1) return absl::InvalidArgumentError("--mb and --passes must be >= 1");
  if (format != "table" && format != "tsv" && format != "json") {
    return absl::InvalidArgumentError("--format must be table, tsv or json");
  }
  ThreadPool pool(threads);
  const int parts = pool.num_threads();

  const int64_t words = mb * (int64_t{1} << 20) / 8;
  std::unique_ptr<uint64_t[]> buffer(new uint64_t[words]);
  // Each thread writes (first-touches) the part it will read.
  pool.ParallelFor(parts, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      for (int64_t i = words * t / parts; i < words * (t + 1) / parts; ++i) buffer[i] = static_cast<uint64_t>(i);
    }
  });

  // Written through the pool's opaque call, so the reads cannot be dropped;
  // a cache line apart so the threads do not share one.
  std::vector<uint64_t> sums(static_cast<size_t>(parts) * 8);
  double best = 0;
  for (int64_t pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.ParallelFor(parts, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t begin = words * t / parts, end = words * (t + 1) / parts;
        sums[t * 8] += SumWords(buffer.get() + begin, end - begin);
      }
    });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::max(best, 8.0 * words / s / 1e9);
  }
  BenchRecord record;
  record.Add("threads", absl::StrCat(parts));
  record.Add("buffer_mb", absl::StrCat(mb));
  record.Add("passes", absl::StrCat(passes));
  record.Add("read_gb_s", best, 2);
  if (format == "tsv") {
    std::fputs(record.Tsv().c_str(), stdout);
  } else if (format == "json") {
    std::fputs(record.Json().c_str(), stdout);
  } else {
    std::printf("read bandwidth, %d threads, %lld MB buffer, best of %lld passes: %.2f GB/s\n", parts,
                static_cast<long long>(mb), static_cast<long long>(passes), best);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-bandwidth",
                              "usage: gemma3n-bandwidth [--threads N] [--mb 2048] [--passes 5] [--format table|tsv|json]\n  memory read bandwidth (GB/s, best pass) with N threads of the kernel thread pool\n",
                              gemma3n::Run);
}
