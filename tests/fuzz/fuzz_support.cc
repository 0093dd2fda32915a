#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_target.h"

namespace gemma3n::fuzz {

void Violated(const char* what) {
  std::fprintf(stderr, "fuzz contract violated: %s\n", what);
  std::abort();
}

}  // namespace gemma3n::fuzz

// Targets that need no set-up leave this out; libFuzzer and the replay call it.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int*, char***) { return 0; }
