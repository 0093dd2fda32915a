// Which vector instruction set the kernels run with, chosen at run time: the
// binaries are built for an AVX2 baseline and carry an AVX-512 variant of
// every hot kernel (see simd/dot_kernels.h), so one build runs well on both
// kinds of CPU.
#pragma once

#include "absl/status/status.h"

namespace gemma3n {

enum class Isa {
  kAvx2,    // AVX2 + FMA: the floor
  kAvx512,  // AVX-512 F/BW/VL/DQ, plus VNNI (int8 dot products) when present
};

struct CpuFeatures {
  bool avx2_fma = false;
  bool avx512 = false;       // F, BW, VL and DQ
  bool avx512_vnni = false;
  bool avx512_bf16 = false;
};

// What this CPU supports (cpuid, once).
const CpuFeatures& DetectedCpuFeatures();

// The best ISA the CPU supports, lowered by the environment variable
// GEMMA3N_ISA=avx2 (to compare paths or rule out a kernel bug).
Isa DefaultIsa();

// Whether this CPU can run `isa`.
bool IsaSupported(Isa isa);

const char* IsaName(Isa isa);

}  // namespace gemma3n
