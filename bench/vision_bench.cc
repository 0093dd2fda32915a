// gemma3n-vision-bench: images per second of the vision path (decode, resize,
// MobileNet-V5, embedder) for one image file, and the peak resident memory.
//   build/bin/gemma3n-vision-bench --model DIR --image FILE [--size 768] [--threads N] [--repeat 2]
#include <chrono>
#include <cstdio>
#include <fstream>

#include "common/process/proc_status.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/kernels/thread_pool.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "vision_worker/image_pipeline.h"

namespace gemma3n {
namespace {

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "image", "threads", "repeat", "size"}, {}));
  ASSIGN_OR_RETURN(std::string dir, args.Required("model"));
  ASSIGN_OR_RETURN(std::string file, args.Required("image"));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  ASSIGN_OR_RETURN(int64_t repeat, args.Int("repeat", 2));
  ThreadPool pool(threads);
  // Load, then the first image (its weights touched for the first time):
  // what an encoder started on demand adds to its first request.
  const auto load_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto encoder, VisionEncoder::Load(dir, &pool));
  const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  ASSIGN_OR_RETURN(int64_t size, args.Int("size", encoder->spec().input_h));
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + file);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  double best = 1e30, first = 0;
  for (int64_t i = 0; i < std::max<int64_t>(1, repeat); ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(VisionEncoding e, EncodeImageBytes(*encoder, bytes, static_cast<int>(size)));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i == 0) first = took;
    best = std::min(best, took);
  }
  std::printf("cold start: load %.2f s + first image %.2f s; warm image %.2f s\n", load, first, best);
  std::printf("%s at %lldx%lld: %.2f s per image (best of %lld), %.3f images/s with %d threads, peak RSS %.2f GB\n",
              file.c_str(), static_cast<long long>(size), static_cast<long long>(size), best, static_cast<long long>(repeat),
              1.0 / best, pool.num_threads(), ProcStatusGb("VmHWM"));
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-vision-bench",
                              "usage: gemma3n-vision-bench --model DIR --image FILE [--size 768] [--threads N] [--repeat 2]\n  images per second of the vision path (decode, resize, MobileNet-V5, embedder) and peak memory\n",
                              gemma3n::Run);
}
