// model.safetensors.index.json bytes -> ParseJson -> ParseShardIndex, as
// Checkpoint::Open reads a sharded checkpoint's index. A shard it accepts must
// be a plain file name: the loader joins it to the model directory.
#include "common/checkpoint/checkpoint.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const auto json = ParseJson("model.safetensors.index.json",
                              absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.ok()) return 0;
  const auto shards = ParseShardIndex("model.safetensors.index.json", *json);
  if (!shards.ok()) return 0;
  for (const auto& [tensor, shard] : *shards) {
    if (shard.empty() || shard.find('/') != std::string::npos || shard == "." || shard == "..") {
      fuzz::Violated("a shard name leaves the model directory");
    }
  }
  return 0;
}
