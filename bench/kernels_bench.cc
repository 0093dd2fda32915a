// Kernel micro-benchmarks (Google Benchmark): the matrix products the decoder
// spends its time in, at the real E2B shapes (hidden 2048, FFN 8192).
//   build/bin/kernels_bench [--benchmark_filter=MatMul]
#include <string>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "common/checkpoint/dtype.h"
#include "common/kernels/matmul.h"
#include "common/kernels/quantize.h"

namespace gemma3n {
namespace {

// Every core: kernels_bench measures the kernels as a worker runs them.
ThreadPool& Pool() {
  static ThreadPool pool(0);
  return pool;
}

struct Bf16Matrix {
  std::vector<uint16_t> data;
  WeightMatrix view;
  Bf16Matrix(int64_t rows, int64_t cols) : data(rows * cols) {
    std::mt19937 rng(1);
    std::normal_distribution<float> normal(0.0f, 0.02f);
    for (auto& v : data) v = F32ToBf16(normal(rng));
    view.format = WeightMatrix::Format::kBF16;
    view.rows = rows;
    view.cols = cols;
    view.stride = cols;
    view.data = data.data();
  }
};

// args: tokens, rows (out), cols (in)
void BM_MatMulBf16(benchmark::State& state) {
  const int64_t n = state.range(0), rows = state.range(1), cols = state.range(2);
  Bf16Matrix w(rows, cols);
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  for (auto _ : state) {
    MatMul(Pool(), x.data(), n, w.view, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  state.counters["weight_GB/s"] = benchmark::Counter(static_cast<double>(rows * cols * 2) * state.iterations(),
                                                     benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * rows * cols * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MatMulBf16)
    ->Args({1, 8192, 2048})    // decode: gate/up projection
    ->Args({1, 2048, 8192})    // decode: down projection
    ->Args({1, 65536, 2048})   // decode: 256 MB, far beyond the caches
    ->Args({128, 8192, 2048})  // prefill of 128 tokens
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

// The same products with the weights quantized at load (int8, int4).
void BM_MatMulQuantized(benchmark::State& state) {
  const int64_t n = state.range(0), rows = state.range(1), cols = state.range(2);
  Bf16Matrix source(rows, cols);
  auto w = state.range(3) == 8 ? QuantizeInt8(Pool(), source.view, false) : QuantizeInt4(Pool(), source.view, false);
  std::vector<float> x(n * cols, 0.5f), y(n * rows);
  for (auto _ : state) {
    MatMul(Pool(), x.data(), n, *w, y.data());
    benchmark::DoNotOptimize(y.data());
  }
  const double bits = state.range(3) + 32.0 / kInt8Block;  // weights + scales
  state.counters["weight_GB/s"] = benchmark::Counter(rows * cols * bits / 8 * state.iterations(),
                                                     benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] = benchmark::Counter(2.0 * n * rows * cols * state.iterations(),
                                                 benchmark::Counter::kIsRate);
}
BENCHMARK(BM_MatMulQuantized)
    ->Args({1, 65536, 2048, 8})
    ->Args({1, 65536, 2048, 4})
    ->Args({8, 65536, 2048, 8})
    ->Args({128, 8192, 2048, 8})  // prefill of 128 tokens (AVX512-VNNI: GemmVnni)
    ->Args({128, 8192, 2048, 4})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // The threads the kernels really ran on, in the report's context.
  benchmark::AddCustomContext("kernel_threads", std::to_string(gemma3n::Pool().num_threads()));
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
