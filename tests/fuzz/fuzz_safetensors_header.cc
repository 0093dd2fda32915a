// safetensors bytes (8-byte length, JSON header, data) -> ParseSafetensors, the
// parser SafetensorsFile::Open runs on a mapped checkpoint file. Every tensor
// it accepts must lie inside the bytes with the size its shape and dtype say.
#include "common/checkpoint/safetensors_file.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const auto header = ParseSafetensors("fuzz.safetensors", absl::MakeConstSpan(data, size));
  if (!header.ok()) return 0;
  for (const auto& [name, t] : header->tensors) {
    if (t.nbytes != static_cast<size_t>(t.NumElements()) * DTypeSize(t.dtype)) fuzz::Violated("size != shape x dtype");
    if (t.nbytes > 0 && (t.data < data || t.data + t.nbytes > data + size)) fuzz::Violated("tensor outside the bytes");
    volatile uint8_t touch = t.nbytes > 0 ? t.data[t.nbytes - 1] : 0;  // ASan checks the last byte is readable
    (void)touch;
  }
  return 0;
}
