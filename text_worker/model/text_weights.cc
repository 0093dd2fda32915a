#include "text_worker/model/text_weights.h"

#include <algorithm>
#include <variant>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "text_worker/model/text_tensors.h"

namespace gemma3n {
std::vector<NamedShape> TextTensorShapes(const TextConfig& c) {
  std::vector<NamedShape> out;
  (void)ForEachTextTensor(c, BuildLayerSpecs(c), nullptr, [&](const TextTensorRef& t) {
    out.push_back({t.name, t.shape});
    return absl::OkStatus();
  });
  return out;
}

absl::StatusOr<TextWeights> LoadTextWeights(const Checkpoint& ckpt, const TextConfig& c,
                                            const std::vector<LayerSpec>& specs) {
  TextWeights w;
  w.config = c;
  w.specs = specs;
  SizeTextWeights(c, w);
  RETURN_IF_ERROR(ForEachTextTensor(
      c, specs, &w, [&](const TextTensorRef& t) { return LoadIntoSlot(ckpt, t.name, t.shape, t.slot); }));
  if (c.altup_coef_clip > 0.0f) {
    // The reference clamps the correction coefficients in place before use.
    for (DecoderLayerWeights& l : w.layers) {
      for (float& v : l.altup.correction_coefs) v = std::clamp(v, -c.altup_coef_clip, c.altup_coef_clip);
    }
  }
  return w;
}

PendingTransposes PlanSparseDownTransposes(TextWeights& w, const std::vector<LayerSpec>& specs) {
  PendingTransposes pending;
  for (size_t i = 0; i < w.layers.size(); ++i) {
    MlpWeights& mlp = w.layers[i].mlp;
    if (specs[i].activation_sparsity <= 0.0f || mlp.down_transposed) continue;
    pending.originals.emplace_back(i, mlp.down_proj);
    WeightMatrix shape;
    shape.format = mlp.down_proj.format;
    shape.rows = mlp.down_proj.cols;
    shape.cols = mlp.down_proj.rows;
    shape.stride = shape.cols;
    mlp.down_proj = shape;
    mlp.down_transposed = true;
  }
  return pending;
}

absl::Status TransposeSparseDownProjections(ThreadPool& pool, TextWeights& w, PendingTransposes& pending, bool release_source) {
  for (auto& [layer, original] : pending.originals) {
    ASSIGN_OR_RETURN(w.layers[layer].mlp.down_proj, TransposeWeights(pool, original, release_source));
  }
  pending.originals.clear();
  return absl::OkStatus();
}

std::vector<std::pair<std::string, WeightMatrix*>> ConvertibleMatrices(TextWeights& w) {
  std::vector<std::pair<std::string, WeightMatrix*>> out;
  (void)ForEachTextTensor(w.config, w.specs, &w, [&](const TextTensorRef& t) {
    WeightMatrix* const* m = std::get_if<WeightMatrix*>(&t.slot);
    if (m && t.def.storage == TensorStorage::kConvertible && (*m)->rows > 0 && (*m)->cols % kInt8Block == 0) {
      out.emplace_back(t.name, *m);
    }
    return absl::OkStatus();
  });
  return out;
}

int64_t WeightBytes(const WeightMatrix& m) {
  switch (m.format) {
    case WeightMatrix::Format::kInt8: return m.rows * (m.cols + 4 * m.cols / kInt8Block);
    case WeightMatrix::Format::kInt4: return m.rows * (m.cols / 2 + 4 * m.cols / kInt8Block);
    case WeightMatrix::Format::kBF16: return 2 * m.rows * m.cols;
    case WeightMatrix::Format::kF32: break;
  }
  return 4 * m.rows * m.cols;
}

absl::StatusOr<int64_t> ConvertTextWeights(ThreadPool& pool, TextWeights& w, WeightFormat format, bool release_source) {
  int64_t bytes = 0;
  for (auto& [name, m] : ConvertibleMatrices(w)) {
    if (format == WeightFormat::kInt8) {
      ASSIGN_OR_RETURN(*m, QuantizeInt8(pool, *m, release_source));
    } else if (format == WeightFormat::kInt4) {
      ASSIGN_OR_RETURN(*m, QuantizeInt4(pool, *m, release_source));
    }
    bytes += WeightBytes(*m);
  }
  return bytes;
}

}  // namespace gemma3n
