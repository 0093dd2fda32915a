// Writes a Hugging Face sharded checkpoint: model-0000i-of-0000n.safetensors
// files of at most `max_shard_bytes` each plus model.safetensors.index.json.
// Tensors are declared first (name, dtype, shape and a function that produces
// their bytes) and streamed out at Finish(), so checkpoints larger than
// memory can be written. Files appear under temporary names and are renamed
// into place only once complete.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/checkpoint/dtype.h"

namespace gemma3n {

class SafetensorsWriter {
 public:
  // Writes exactly the tensor's byte count to `out`.
  using Producer = std::function<absl::Status(std::ostream& out)>;

  SafetensorsWriter(std::string dir, int64_t max_shard_bytes) : dir_(std::move(dir)), max_shard_(max_shard_bytes) {}

  // InvalidArgument for a duplicate name.
  absl::Status Add(const std::string& name, DType dtype, std::vector<int64_t> shape, Producer producer);
  absl::Status Finish();

 private:
  struct Entry {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    int64_t bytes;
    Producer producer;
  };
  absl::Status WriteShard(const std::vector<const Entry*>& entries, const std::string& file_name);

  std::string dir_;
  int64_t max_shard_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

}  // namespace gemma3n
