// The weight formats: quantization error within half a step per weight, and
// every MatMul path (decode dot, batched group, prompt sgemm, VNNI; views of
// the first rows / columns; transposed weights; the sparse-FFN gathers) equal
// to the product with the dequantized weights, for each kernel ISA this CPU
// has (AVX2, AVX-512): both tables come from one source, but each has its
// own loads, lane counts and tails. An ISA is skipped, with a message, only on
// a CPU whose /proc/cpuinfo lacks it.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/kernels/cpu_isa.h"
#include "common/kernels/matmul.h"
#include "common/kernels/quantize.h"
#include "common/kernels/simd/dot_kernels.h"
#include "common/kernels/sparse_matvec.h"
#include "gtest/gtest.h"

namespace gemma3n {
namespace {

// The kernels' threads here: two, so the parallel split runs on any machine.
ThreadPool& Pool() {
  static ThreadPool pool(2);
  return pool;
}

struct Bf16Matrix {
  std::vector<uint16_t> data;
  WeightMatrix view;
};

Bf16Matrix RandomBf16(int64_t rows, int64_t cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  Bf16Matrix m;
  m.data.resize(static_cast<size_t>(rows * cols));
  for (uint16_t& v : m.data) {
    const float f = dist(rng);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    v = static_cast<uint16_t>(bits >> 16);
  }
  m.view.format = WeightMatrix::Format::kBF16;
  m.view.rows = rows;
  m.view.cols = cols;
  m.view.stride = cols;
  m.view.data = m.data.data();
  return m;
}

// y = x W^T in double, from W's own RowToF32 (dequantized for int8).
std::vector<float> Reference(const std::vector<float>& x, int64_t n, const WeightMatrix& w) {
  std::vector<float> row(static_cast<size_t>(w.cols)), y(static_cast<size_t>(n * w.rows));
  for (int64_t r = 0; r < w.rows; ++r) {
    w.RowToF32(r, row.data());
    for (int64_t t = 0; t < n; ++t) {
      double acc = 0.0;
      for (int64_t c = 0; c < w.cols; ++c) acc += static_cast<double>(x[t * w.cols + c]) * row[c];
      y[t * w.rows + r] = static_cast<float>(acc);
    }
  }
  return y;
}

// x rounded to 8 bits per 32-element block, as the VNNI int4 kernel does.
std::vector<float> BlockRounded(const std::vector<float>& x) {
  std::vector<float> out(x.size());
  for (size_t b = 0; b < x.size(); b += kInt8Block) {
    float max_abs = 0.0f;
    for (size_t i = b; i < b + kInt8Block; ++i) max_abs = std::max(max_abs, std::fabs(x[i]));
    const float scale = max_abs / 127.0f, inv = scale > 0.0f ? 1.0f / scale : 0.0f;
    for (size_t i = b; i < b + kInt8Block; ++i) out[i] = scale * static_cast<float>(std::lround(x[i] * inv));
  }
  return out;
}

// Every MatMul path (dot, group of 8 + rest, sgemm, VNNI) on w and on views
// of its first rows and columns equals the product with w's dequantized
// values (and, where the path rounds x to 8 bits, with x rounded so).
void ExpectEveryPathMatchesReference(const WeightMatrix& q, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const WeightMatrix& w : {q, q.TopRows(100), q.LeftCols(224)}) {
    for (int64_t n : {1, 3, 8, 13, 40}) {
      std::vector<float> x(static_cast<size_t>(n * w.cols));
      for (float& v : x) v = dist(rng);
      std::vector<float> y(static_cast<size_t>(n * w.rows));
      MatMul(Pool(), x.data(), n, w, y.data());
      const bool rounded = MatMulQuantizesActivations(w, n);
      const std::vector<float> ref = Reference(rounded ? BlockRounded(x) : x, n, w);
      if (rounded) {  // and not far from the unrounded product either
        const std::vector<float> exact = Reference(x, n, w);
        float worst = 0.0f, scale = 0.0f;
        for (size_t i = 0; i < y.size(); ++i) {
          worst = std::max(worst, std::fabs(y[i] - exact[i]));
          scale = std::max(scale, std::fabs(exact[i]));
        }
        EXPECT_LE(worst, 2e-2f * scale) << "n " << n;
      }
      float max_err = 0.0f, max_ref = 0.0f;
      for (size_t i = 0; i < y.size(); ++i) {
        max_err = std::max(max_err, std::fabs(y[i] - ref[i]));
        max_ref = std::max(max_ref, std::fabs(ref[i]));
      }
      EXPECT_LE(max_err, 1e-5f * max_ref + 1e-6f) << "n " << n << " rows " << w.rows << " cols " << w.cols;
    }
  }
}

TEST(Int8Test, QuantizationErrorIsAtMostHalfAStep) {
  const Bf16Matrix m = RandomBf16(40, 256, 1);
  auto q = QuantizeInt8(Pool(), m.view, /*release_source=*/false);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->format, WeightMatrix::Format::kInt8);
  std::vector<float> orig(256), deq(256);
  for (int64_t r = 0; r < 40; ++r) {
    m.view.RowToF32(r, orig.data());
    q->RowToF32(r, deq.data());
    for (int64_t c = 0; c < 256; ++c) {
      const float step = q->scale_row(r)[c / kInt8Block];
      EXPECT_LE(std::fabs(orig[c] - deq[c]), 0.5f * step + 1e-7f) << r << "," << c;
    }
  }
}

// The instruction-set extensions an ISA's kernels need, as /proc/cpuinfo
// names them.
std::vector<std::string> RequiredCpuFlags(Isa isa) {
  if (isa == Isa::kAvx512) return {"avx512f", "avx512bw", "avx512vl", "avx512dq"};
  return {"avx2", "fma"};
}

// The CPU's flags as the kernel reports them: a second opinion, independent
// of the cpuid probe (IsaSupported) that decides what runs.
std::set<std::string> CpuinfoFlags() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    return {std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
  }
  return {};
}

// Runs a test with the kernels of one ISA. The test is skipped, saying so,
// only when /proc/cpuinfo shows the CPU lacks a required extension; a CPU that
// has them all runs it, and a probe that disagrees with /proc/cpuinfo fails.
class KernelIsaTest : public ::testing::TestWithParam<Isa> {
 protected:
  void SetUp() override {
    const std::set<std::string> flags = CpuinfoFlags();
    ASSERT_FALSE(flags.empty()) << "no flags line in /proc/cpuinfo: cannot tell whether to run the "
                                << IsaName(GetParam()) << " kernels";
    std::string missing;
    for (const std::string& flag : RequiredCpuFlags(GetParam())) {
      if (!flags.count(flag)) missing += " " + flag;
    }
    ASSERT_EQ(IsaSupported(GetParam()), missing.empty())
        << "the cpuid probe and /proc/cpuinfo disagree about " << IsaName(GetParam()) << " (/proc/cpuinfo lacks:"
        << (missing.empty() ? " none of its extensions" : missing) << ")";
    if (!missing.empty()) {
      std::printf("SKIPPED: the %s kernel tests need%s, which this CPU lacks\n", IsaName(GetParam()),
                  missing.c_str());
      GTEST_SKIP() << "this CPU lacks" << missing << " (needed by the " << IsaName(GetParam()) << " kernels)";
    }
    ASSERT_TRUE(SetKernelIsa(GetParam()).ok());
    ASSERT_EQ(Kernels().isa, GetParam());
  }
  void TearDown() override { ASSERT_TRUE(SetKernelIsa(DefaultIsa()).ok()); }
};

float MaxAbs(const std::vector<float>& v) {
  float m = 0.0f;
  for (float f : v) m = std::max(m, std::fabs(f));
  return m;
}
float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST_P(KernelIsaTest, Bf16EveryMatMulPath) {
  const Bf16Matrix m = RandomBf16(300, 520, 9);  // 520: a tail after the vector loops
  ExpectEveryPathMatchesReference(m.view, 10);
}

TEST_P(KernelIsaTest, Int8EveryMatMulPath) {
  const Bf16Matrix m = RandomBf16(300, 512, 2);
  auto q = QuantizeInt8(Pool(), m.view, false);
  ASSERT_TRUE(q.ok());
  ExpectEveryPathMatchesReference(*q, 3);
}

TEST_P(KernelIsaTest, Int4QuantizationErrorAndEveryMatMulPath) {
  const Bf16Matrix m = RandomBf16(300, 512, 5);
  auto q = QuantizeInt4(Pool(), m.view, false);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->format, WeightMatrix::Format::kInt4);
  std::vector<float> orig(512), deq(512);
  for (int64_t r = 0; r < 300; r += 7) {
    m.view.RowToF32(r, orig.data());
    q->RowToF32(r, deq.data());
    for (int64_t c = 0; c < 512; ++c) {
      EXPECT_LE(std::fabs(orig[c] - deq[c]), 0.5f * q->scale_row(r)[c / kInt8Block] + 1e-7f) << r << "," << c;
    }
  }
  ExpectEveryPathMatchesReference(*q, 6);
}

TEST(Int8Test, BadInputIsRefused) {
  const Bf16Matrix m = RandomBf16(4, 48, 4);  // 48 is not a multiple of 32
  EXPECT_EQ(QuantizeInt8(Pool(), m.view, false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseWeightFormat("int3").ok());
  EXPECT_EQ(QuantizeInt4(Pool(), m.view, false).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseWeightFormat("int4"), WeightFormat::kInt4);
  EXPECT_EQ(*ParseWeightFormat("int8"), WeightFormat::kInt8);
}

// y = x W with W stored transposed (wt [k, m]), and the sparse FFN's two
// gathers, against sums over the dequantized rows of wt.
TEST_P(KernelIsaTest, TransposedWeightsAndSparseGathers) {
  const Bf16Matrix m = RandomBf16(300, 320, 11);  // k 300 (> one 256-row block), m 320 (two column blocks)
  std::vector<WeightMatrix> formats = {m.view};
  formats.push_back(*QuantizeInt8(Pool(), m.view, false));
  formats.push_back(*QuantizeInt4(Pool(), m.view, false));
  std::mt19937 rng(12);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  for (const WeightMatrix& wt : formats) {
    std::vector<std::vector<float>> rows(static_cast<size_t>(wt.rows), std::vector<float>(wt.cols));
    for (int64_t r = 0; r < wt.rows; ++r) wt.RowToF32(r, rows[r].data());
    for (int64_t n : {1, 5, 40}) {
      std::vector<float> x(static_cast<size_t>(n * wt.rows)), y(static_cast<size_t>(n * wt.cols));
      for (float& v : x) v = dist(rng);
      MatMulTransposed(Pool(), x.data(), n, wt, y.data());
      std::vector<float> ref(y.size());
      for (int64_t t = 0; t < n; ++t) {
        for (int64_t c = 0; c < wt.cols; ++c) {
          double acc = 0.0;
          for (int64_t r = 0; r < wt.rows; ++r) acc += static_cast<double>(x[t * wt.rows + r]) * rows[r][c];
          ref[t * wt.cols + c] = static_cast<float>(acc);
        }
      }
      EXPECT_LE(MaxAbsDiff(y, ref), 1e-5f * MaxAbs(ref) + 1e-6f) << "n " << n;
    }
    // Gathers: rows 0, 3, 17, 200 and the last.
    const std::vector<int32_t> alive = {0, 3, 17, 200, static_cast<int32_t>(wt.rows - 1)};
    std::vector<float> a(alive.size()), x(static_cast<size_t>(wt.cols));
    for (float& v : a) v = dist(rng);
    for (float& v : x) v = dist(rng);
    std::vector<float> combined(static_cast<size_t>(wt.cols), 7.0f), dots(alive.size());
    GatherRowsCombine(Pool(), a.data(), wt, alive.data(), static_cast<int64_t>(alive.size()), combined.data());
    GatherRowsMatVec(Pool(), x.data(), wt, alive.data(), static_cast<int64_t>(alive.size()), dots.data());
    std::vector<float> combined_ref(combined.size(), 0.0f), dots_ref(dots.size(), 0.0f);
    for (size_t j = 0; j < alive.size(); ++j) {
      double dot = 0.0;
      for (int64_t c = 0; c < wt.cols; ++c) {
        combined_ref[c] += a[j] * rows[alive[j]][c];
        dot += static_cast<double>(x[c]) * rows[alive[j]][c];
      }
      dots_ref[j] = static_cast<float>(dot);
    }
    EXPECT_LE(MaxAbsDiff(combined, combined_ref), 1e-5f * MaxAbs(combined_ref));
    EXPECT_LE(MaxAbsDiff(dots, dots_ref), 1e-5f * MaxAbs(dots_ref));
  }
}

// Transposing is exact, and the original is unchanged.
TEST(TransposeTest, Bf16TransposeIsExact) {
  const Bf16Matrix m = RandomBf16(70, 130, 13);
  auto t = TransposeWeights(Pool(), m.view, /*release_source=*/false);
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows, 130);
  ASSERT_EQ(t->cols, 70);
  for (int64_t r = 0; r < 70; ++r) {
    for (int64_t c = 0; c < 130; ++c) ASSERT_EQ(t->bf16_row(c)[r], m.view.bf16_row(r)[c]);
  }
  const Bf16Matrix small = RandomBf16(4, 64, 14);
  auto q = QuantizeInt8(Pool(), small.view, false);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(TransposeWeights(Pool(), *q, false).status().code(), absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(Isa, KernelIsaTest, ::testing::Values(Isa::kAvx2, Isa::kAvx512),
                         [](const ::testing::TestParamInfo<Isa>& info) { return std::string(IsaName(info.param)); });

}  // namespace
}  // namespace gemma3n
