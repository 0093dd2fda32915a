// Writes safetensors files. WriteSafetensorsFile writes one; SafetensorsWriter
// a Hugging Face sharded checkpoint: model-0000i-of-0000n.safetensors files of
// at most `max_shard_bytes` each plus model.safetensors.index.json. Tensors
// are declared first (name, dtype, shape and a function that produces their
// bytes) and streamed out, so files larger than memory can be written. A file
// appears under a temporary name (".NAME.XXXXXX" in its directory, unique to
// the writer) and is renamed into place only once complete.
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

struct TensorToWrite {
  // Writes exactly the tensor's byte count (elements * DTypeSize) to `out`.
  using Producer = std::function<absl::Status(std::ostream& out)>;
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  Producer producer;
};

struct SafetensorsFileOptions {
  // Each tensor's data starts at a multiple of this many bytes of the file
  // (zero bytes in between); the data itself starts at a multiple of 8 and of this.
  uint64_t alignment = 1;
  std::map<std::string, std::string> metadata = {{"format", "pt"}};
  // Flush the file to disk before the rename (after a crash the name holds all
  // or nothing), then drop its pages from the page cache.
  bool sync = false;
};

// Writes `tensors`, in this order, to the file `path` (its directory must
// exist). First removes the temporary files of writers of `path` that died
// mid-write (unmodified for ten minutes: a live writer appends continuously).
// Errors: the directory cannot be written, too little free space, a
// producer fails or writes another byte count, a write fails (the temporary
// file is then removed).
absl::Status WriteSafetensorsFile(const std::string& path, const std::vector<const TensorToWrite*>& tensors,
                                  const SafetensorsFileOptions& options = {});

class SafetensorsWriter {
 public:
  using Producer = TensorToWrite::Producer;

  SafetensorsWriter(std::string dir, int64_t max_shard_bytes) : dir_(std::move(dir)), max_shard_(max_shard_bytes) {}

  // InvalidArgument for a duplicate name.
  absl::Status Add(const std::string& name, DType dtype, std::vector<int64_t> shape, Producer producer);
  absl::Status Finish();

 private:
  struct Entry {
    TensorToWrite tensor;
    int64_t bytes;
  };

  std::string dir_;
  int64_t max_shard_;
  std::vector<Entry> entries_;
  std::map<std::string, size_t> index_;
};

}  // namespace gemma3n
