// gemma3n-audio-bench: real-time factor of the audio path (decode, log-mel,
// encoder, embedder) for one file, and the process's peak resident memory.
//   build/bin/gemma3n-audio-bench --model DIR --audio FILE [--threads N] [--repeat 2]
#include <chrono>
#include <cstdio>
#include <fstream>

#include "audio_worker/audio_pipeline.h"
#include "common/process/proc_status.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/kernels/thread_pool.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "audio", "threads", "repeat"}, {}));
  ASSIGN_OR_RETURN(std::string dir, args.Required("model"));
  ASSIGN_OR_RETURN(std::string file, args.Required("audio"));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  ASSIGN_OR_RETURN(int64_t repeat, args.Int("repeat", 2));
  ThreadPool pool(threads);
  // Load, then the first clip (its weights touched for the first time):
  // what an encoder started on demand adds to its first request.
  const auto load_start = std::chrono::steady_clock::now();
  ASSIGN_OR_RETURN(auto encoder, AudioEncoder::Load(dir, &pool));
  const double load = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  const LogMelExtractor features{LogMelConfig{}};
  ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(dir + "/config.json"));
  const AudioPipeline pipeline(*encoder, features, config.value("audio_soft_tokens_per_image", 188));
  std::ifstream in(file, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + file);
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  double best = 1e30, seconds = 0, first = 0;
  for (int64_t i = 0; i < std::max<int64_t>(1, repeat); ++i) {
    const auto start = std::chrono::steady_clock::now();
    ASSIGN_OR_RETURN(AudioSpans spans, pipeline.Encode(bytes));
    const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (i == 0) first = took;
    best = std::min(best, took);
    seconds = spans.seconds;
  }
  std::printf("cold start: load %.2f s + first clip %.2f s; warm clip %.2f s\n", load, first, best);
  std::printf("%s: %.1f s of audio encoded in %.2f s (best of %lld) with %d threads: real-time factor %.3f, "
              "peak RSS %.2f GB\n",
              file.c_str(), seconds, best, static_cast<long long>(repeat), pool.num_threads(), best / seconds,
              ProcStatusGb("VmHWM"));
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-audio-bench",
                              "usage: gemma3n-audio-bench --model DIR --audio FILE [--threads N] [--repeat 2]\n  real-time factor of the audio path (decode, log-mel, encoder, embedder) and peak memory\n",
                              gemma3n::Run);
}
