// AltUp (alternating updates): the decoder carries N streams of width hidden;
// each layer computes on one (the active stream) and a learned, token-routed
// linear map predicts the others before and corrects them after.
#pragma once

#include <cstdint>
#include <vector>

#include "common/kernels/thread_pool.h"
#include "common/config/model_config.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {

// streams [N, n, hidden] -> predictions [N, n, hidden]:
//   pred[j] = x[j] + sum_i coef[t][j * N + i] * x[i],
//   coef = prediction_coefs(tanh(router(router_norm(x[active]) / hidden))).
void AltUpPredict(ThreadPool& pool, const AltUpWeights& w, const TextConfig& c, const float* streams, int64_t n, float* predictions);

// corrected[i] = pred[i] + (activated - pred[active]) * (1 + correction_coefs(router(activated))[i]).
void AltUpCorrect(ThreadPool& pool, const AltUpWeights& w, const TextConfig& c, const float* predictions, const float* activated,
                  int64_t n, float* corrected);

}  // namespace gemma3n
