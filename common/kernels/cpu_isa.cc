#include "common/kernels/cpu_isa.h"

#include <cstdlib>
#include <cstring>

#include "spdlog/spdlog.h"

namespace gemma3n {

const CpuFeatures& DetectedCpuFeatures() {
  static const CpuFeatures features = [] {
    __builtin_cpu_init();
    CpuFeatures f;
    f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    f.avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
    f.avx512_vnni = f.avx512 && __builtin_cpu_supports("avx512vnni");
    f.avx512_bf16 = f.avx512 && __builtin_cpu_supports("avx512bf16");
    return f;
  }();
  return features;
}

bool IsaSupported(Isa isa) {
  const CpuFeatures& f = DetectedCpuFeatures();
  return isa == Isa::kAvx512 ? f.avx512 : f.avx2_fma;
}

Isa DefaultIsa() {
  static const Isa isa = [] {
    Isa best = IsaSupported(Isa::kAvx512) ? Isa::kAvx512 : Isa::kAvx2;
    if (const char* env = std::getenv("GEMMA3N_ISA")) {
      if (std::strcmp(env, "avx2") == 0) {
        best = Isa::kAvx2;
      } else if (std::strcmp(env, "avx512") != 0) {
        spdlog::warn("GEMMA3N_ISA={} is not one of avx2, avx512; using {}", env, IsaName(best));
      }
    }
    return best;
  }();
  return isa;
}

const char* IsaName(Isa isa) { return isa == Isa::kAvx512 ? "avx512" : "avx2"; }

}  // namespace gemma3n
