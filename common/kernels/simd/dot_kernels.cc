#include "common/kernels/simd/dot_kernels.h"

#include <atomic>

#include "absl/strings/str_cat.h"

namespace gemma3n {
namespace {

const DotKernels& TableFor(Isa isa) { return isa == Isa::kAvx512 ? avx512::Table() : avx2::Table(); }

std::atomic<const DotKernels*>& Active() {
  static std::atomic<const DotKernels*> active{&TableFor(DefaultIsa())};
  return active;
}

}  // namespace

const DotKernels& Kernels() { return *Active().load(std::memory_order_relaxed); }

absl::Status SetKernelIsa(Isa isa) {
  if (!IsaSupported(isa)) {
    return absl::FailedPreconditionError(absl::StrCat("this CPU cannot run the ", IsaName(isa), " kernels"));
  }
  Active().store(&TableFor(isa), std::memory_order_relaxed);
  return absl::OkStatus();
}

}  // namespace gemma3n
