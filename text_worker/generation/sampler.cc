#include "text_worker/generation/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace gemma3n {

int Sampler::Sample(absl::Span<const float> logits, absl::Span<const int> history) {
  const int vocab = static_cast<int>(logits.size());
  work_.assign(logits.begin(), logits.end());
  if (params_.repetition_penalty != 1.0f) {
    // Each distinct seen token once: positive logits shrink, negative grow.
    std::vector<bool> seen(vocab, false);
    for (int id : history) {
      if (id < 0 || id >= vocab || seen[id]) continue;
      seen[id] = true;
      float& l = work_[id];
      l = l > 0 ? l / params_.repetition_penalty : l * params_.repetition_penalty;
    }
  }
  if (params_.temperature == 0.0f) {
    return static_cast<int>(std::max_element(work_.begin(), work_.end()) - work_.begin());
  }
  for (float& l : work_) l /= params_.temperature;

  // Candidates sorted by logit, best first; then cut by top-k, top-p, min-p.
  order_.resize(vocab);
  std::iota(order_.begin(), order_.end(), 0);
  int keep = vocab;
  if (params_.top_k > 0 && params_.top_k < vocab) {
    keep = params_.top_k;
    std::partial_sort(order_.begin(), order_.begin() + keep, order_.end(),
                      [&](int a, int b) { return work_[a] > work_[b]; });
  } else {
    std::sort(order_.begin(), order_.end(), [&](int a, int b) { return work_[a] > work_[b]; });
  }
  const float max_logit = work_[order_[0]];
  std::vector<double> probs(keep);
  double total = 0.0;
  for (int i = 0; i < keep; ++i) total += probs[i] = std::exp(static_cast<double>(work_[order_[i]]) - max_logit);
  for (double& p : probs) p /= total;
  if (params_.top_p < 1.0f) {
    double cumulative = 0.0;
    int cut = keep;
    for (int i = 0; i < keep; ++i) {
      cumulative += probs[i];
      if (cumulative >= params_.top_p) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
  }
  if (params_.min_p > 0.0f) {
    const double threshold = params_.min_p * probs[0];
    int cut = 1;
    while (cut < keep && probs[cut] >= threshold) ++cut;
    keep = cut;
  }
  std::discrete_distribution<int> pick(probs.begin(), probs.begin() + keep);
  return order_[pick(rng_)];
}

}  // namespace gemma3n
