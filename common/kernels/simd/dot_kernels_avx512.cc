// The AVX-512 F/BW/VL/DQ (+VNNI where the CPU has it) table of dot_kernels.h.
#include <immintrin.h>

#include "common/kernels/simd/dot_kernels.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {
namespace avx512 {
namespace {
#include "common/kernels/simd/dot_kernels_impl.inc"
}  // namespace

const DotKernels& Table() {
  static const DotKernels table = MakeTable(Isa::kAvx512, DetectedCpuFeatures().avx512_vnni);
  return table;
}

}  // namespace avx512
}  // namespace gemma3n
