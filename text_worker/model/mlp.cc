#include "text_worker/model/mlp.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/kernels/sparse_matvec.h"

namespace gemma3n {
namespace {

// One token through an activation-sparse FFN: gate holds the cut
// pre-activations [f] (zero for the ~95% of channels below the cutoff, and
// gelu(0) = 0), so only the surviving channels' up rows and down rows (down
// is transposed) are read. Exact up to the order of the final sum.
void SparseFfnToken(ThreadPool& pool, const MlpWeights& w, const float* x, const float* gate, int64_t f, float* out) {
  thread_local std::vector<int32_t> alive;
  thread_local std::vector<float> act, up;
  alive.clear();
  act.clear();
  for (int64_t i = 0; i < f; ++i) {
    if (gate[i] > 0.0f) {
      alive.push_back(static_cast<int32_t>(i));
      act.push_back(gate[i]);
    }
  }
  const int64_t count = static_cast<int64_t>(alive.size());
  GeluTanh(act.data(), count);
  up.resize(alive.size());
  GatherRowsMatVec(pool, x, w.up_proj, alive.data(), count, up.data());
  for (int64_t j = 0; j < count; ++j) act[j] *= up[j];
  GatherRowsCombine(pool, act.data(), w.down_proj, alive.data(), count, out);
}

}  // namespace

void GaussianTopK(float* gate, int64_t n, int64_t width, float std_multiplier) {
  for (int64_t t = 0; t < n; ++t) {
    float* g = gate + t * width;
    double sum = 0.0;
    for (int64_t i = 0; i < width; ++i) sum += g[i];
    const double mean = sum / width;
    double var = 0.0;  // population variance (unbiased=False)
    for (int64_t i = 0; i < width; ++i) var += (g[i] - mean) * (g[i] - mean);
    const float cutoff = static_cast<float>(mean + std::sqrt(var / width) * std_multiplier);
    for (int64_t i = 0; i < width; ++i) g[i] = std::max(0.0f, g[i] - cutoff);
  }
}

void MlpForward(ThreadPool& pool, const MlpWeights& w, const LayerSpec& spec, const float* x, int64_t n, float* out) {
  // MatFormer: a narrower layer uses the first f rows of gate/up and the
  // first f columns of down (rows, when transposed), as views.
  const int64_t f = spec.ffn_width, hidden = w.gate_proj.cols;
  std::vector<float> gate(static_cast<size_t>(n * f));
  MatMul(pool, x, n, w.gate_proj.TopRows(f), gate.data());
  const bool sparse = spec.activation_sparsity > 0.0f;
  if (sparse) GaussianTopK(gate.data(), n, f, spec.sparsity_std_multiplier);
  if (sparse && w.down_transposed && n < kGemmMinRows) {
    // Decoding: each token's few surviving channels (prompts go dense below:
    // across many tokens nearly every channel survives somewhere).
    for (int64_t t = 0; t < n; ++t) SparseFfnToken(pool, w, x + t * hidden, gate.data() + t * f, f, out + t * hidden);
    return;
  }
  std::vector<float> up(static_cast<size_t>(n * f));
  GeluTanh(gate.data(), n * f);
  MatMul(pool, x, n, w.up_proj.TopRows(f), up.data());
  for (size_t i = 0; i < gate.size(); ++i) gate[i] *= up[i];
  if (w.down_transposed) {
    MatMulTransposed(pool, gate.data(), n, w.down_proj.TopRows(f), out);
  } else {
    MatMul(pool, gate.data(), n, w.down_proj.LeftCols(f), out);
  }
}

}  // namespace gemma3n
