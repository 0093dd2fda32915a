// The AVX2 + FMA (compiled with -mavx2 -mfma, no AVX-512) table of dot_kernels.h.
#include <immintrin.h>

#include "common/kernels/simd/dot_kernels.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {
namespace avx2 {
namespace {
#include "common/kernels/simd/dot_kernels_impl.inc"
}  // namespace

const DotKernels& Table() {
  static const DotKernels table = MakeTable(Isa::kAvx2, false);
  return table;
}

}  // namespace avx2
}  // namespace gemma3n
