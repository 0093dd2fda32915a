// gemma3n-make-random-checkpoint: writes a random-weight Gemma 3n checkpoint
// with the dimensions of a given config.json (the real E2B or E4B ones in
// tests/data/real-configs/), in the real layout: config.json and sharded bf16
// safetensors with the Hugging Face tensor names. Only the text core
// (model.language_model.*) is written: enough to measure the decoder.
//
//   build/bin/gemma3n-make-random-checkpoint --config tests/data/real-configs/gemma-3n-E4B.config.json
//       --out /tmp/e4b-random [--seed 1]
//
// Values: matrices uniform with std 0.02 (0.3/sqrt(3) for the tiny AltUp
// coefficient matrices, damped so deep random stacks stay finite), norm
// scales around 1. Deterministic for a seed.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/match.h"
#include "common/checkpoint/checkpoint.h"
#include "common/checkpoint/safetensors_writer.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/config/model_config.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {
namespace {

// splitmix64: fast, seedable, good enough for benchmark weights.
uint64_t Mix(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Uniform values of the given mean and std, written as bf16 in chunks.
SafetensorsWriter::Producer RandomBf16(int64_t count, float mean, float std, uint64_t seed) {
  return [=](std::ostream& out) {
    uint64_t state = seed;
    const float half_width = std * std::sqrt(3.0f);
    std::vector<uint16_t> chunk(1 << 20);
    for (int64_t done = 0; done < count;) {
      const int64_t n = std::min<int64_t>(chunk.size(), count - done);
      for (int64_t i = 0; i < n; i += 4) {
        uint64_t bits = Mix(state);
        for (int k = 0; k < 4 && i + k < n; ++k, bits >>= 16) {
          const float u = static_cast<float>(bits & 0xffff) / 65535.0f;  // [0, 1]
          chunk[i + k] = F32ToBf16(mean + (2.0f * u - 1.0f) * half_width);
        }
      }
      out.write(reinterpret_cast<const char*>(chunk.data()), n * 2);
      done += n;
    }
    return absl::OkStatus();
  };
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"config", "out", "seed", "max-shard-gb"}, {}));
  ASSIGN_OR_RETURN(std::string config_path, args.Required("config"));
  ASSIGN_OR_RETURN(std::string out, args.Required("out"));
  ASSIGN_OR_RETURN(int64_t seed, args.Int("seed", 1));
  ASSIGN_OR_RETURN(double shard_gb, args.Double("max-shard-gb", 4.0));
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(config_path));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  std::filesystem::create_directories(out);
  if (std::filesystem::exists(std::filesystem::path(out) / "config.json")) {
    return absl::AlreadyExistsError(out + " already holds a checkpoint");
  }
  SafetensorsWriter writer(out, static_cast<int64_t>(shard_gb * 1e9));
  int64_t total = 0;
  uint64_t tensor_seed = static_cast<uint64_t>(seed) * 1000003ull;
  for (const NamedShape& t : TextTensorShapes(config.text)) {
    const int64_t count = NumElements(t.shape);
    total += count;
    const bool vector = t.shape.size() == 1;
    const bool coefs = absl::StrContains(t.name, "_coefs");
    const float mean = vector ? 1.0f : 0.0f;
    const float std = vector ? 0.1f : (coefs ? 0.1f : 0.02f);
    RETURN_IF_ERROR(writer.Add(t.name, DType::kBF16, t.shape, RandomBf16(count, mean, std, ++tensor_seed)));
  }
  spdlog::info("writing {:.2f}B parameters ({:.1f} GB bf16) to {}", total / 1e9, total * 2 / 1e9, out);
  RETURN_IF_ERROR(writer.Finish());
  std::ofstream(std::filesystem::path(out) / "config.json") << json.dump(2) << "\n";
  spdlog::info("done");
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-make-random-checkpoint",
                              "usage: gemma3n-make-random-checkpoint --config CONFIG.json --out DIR [--seed 1] [--max-shard-gb G]\n  a random-weight text core (bf16 safetensors shards, HF names) with the dimensions of CONFIG.json\n",
                              gemma3n::Run);
}
