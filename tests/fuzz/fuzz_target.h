// The libFuzzer entry points every fuzz_<name>.cc defines. The same sources
// link two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer into a
// libFuzzer binary (clang, GEMMA3N_FUZZ=ON), or with replay_main.cc into a
// replay of the committed corpus that runs in the default test suite (GCC).
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv);
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace gemma3n::fuzz {

// A contract the parser under test broke (not an input it rightly refused):
// prints why and aborts, so libFuzzer records the input as a crash and the
// replay fails.
[[noreturn]] void Violated(const char* what);

}  // namespace gemma3n::fuzz
