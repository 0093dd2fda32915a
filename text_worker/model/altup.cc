#include "text_worker/model/altup.h"

#include <cmath>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"

namespace gemma3n {
namespace {

// modalities [n, N] = tanh(router(router_norm(x) * hidden^-1)).
std::vector<float> RouterModalities(ThreadPool& pool, const AltUpWeights& w, const TextConfig& c, const float* x, int64_t n) {
  const int64_t h = c.hidden_size;
  std::vector<float> normed(static_cast<size_t>(n * h));
  RmsNorm(x, n, h, w.router_norm.data(), c.rms_norm_eps, normed.data());
  const float scale = 1.0f / static_cast<float>(h);
  for (float& v : normed) v *= scale;
  std::vector<float> modalities(static_cast<size_t>(n * c.altup_num_inputs));
  MatMul(pool, normed.data(), n, w.modality_router, modalities.data());
  for (float& v : modalities) v = std::tanh(v);
  return modalities;
}

}  // namespace

void AltUpPredict(ThreadPool& pool, const AltUpWeights& w, const TextConfig& c, const float* streams, int64_t n, float* pred) {
  const int64_t h = c.hidden_size, N = c.altup_num_inputs, plane = n * h;
  std::vector<float> modalities = RouterModalities(pool, w, c, streams + c.altup_active_idx * plane, n);
  std::vector<float> coefs(static_cast<size_t>(N * N));
  for (int64_t t = 0; t < n; ++t) {
    const float* m = modalities.data() + t * N;
    for (int64_t r = 0; r < N * N; ++r) {  // coefs = prediction_coefs [N*N, N] @ m
      double acc = 0.0;
      for (int64_t k = 0; k < N; ++k) acc += static_cast<double>(w.prediction_coefs[r * N + k]) * m[k];
      coefs[r] = static_cast<float>(acc);
    }
    for (int64_t j = 0; j < N; ++j) {
      float* out = pred + j * plane + t * h;
      const float* self = streams + j * plane + t * h;
      for (int64_t d = 0; d < h; ++d) {
        double acc = 0.0;
        for (int64_t i = 0; i < N; ++i) acc += static_cast<double>(coefs[j * N + i]) * streams[i * plane + t * h + d];
        out[d] = static_cast<float>(self[d] + acc);
      }
    }
  }
}

void AltUpCorrect(ThreadPool& pool, const AltUpWeights& w, const TextConfig& c, const float* pred, const float* activated, int64_t n,
                  float* corrected) {
  const int64_t h = c.hidden_size, N = c.altup_num_inputs, plane = n * h;
  std::vector<float> modalities = RouterModalities(pool, w, c, activated, n);
  const float* active = pred + c.altup_active_idx * plane;
  for (int64_t t = 0; t < n; ++t) {
    const float* m = modalities.data() + t * N;
    for (int64_t i = 0; i < N; ++i) {
      double sum = 1.0;  // correction_coefs [N, N] @ m, plus one
      for (int64_t k = 0; k < N; ++k) sum += static_cast<double>(w.correction_coefs[i * N + k]) * m[k];
      const float coef = static_cast<float>(sum);
      const float* p = pred + i * plane + t * h;
      float* out = corrected + i * plane + t * h;
      for (int64_t d = 0; d < h; ++d) {
        out[d] = p[d] + (activated[t * h + d] - active[t * h + d]) * coef;
      }
    }
  }
}

}  // namespace gemma3n
