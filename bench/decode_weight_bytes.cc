#include "bench/decode_weight_bytes.h"

#include <cmath>
#include <string_view>

#include "common/checkpoint/dtype.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "text_worker/model/text_tensors.h"

namespace gemma3n {
namespace {

// Bytes of `rows` rows of a matrix `full_cols` wide of which `cols` columns
// are read (MatFormer's prefix views), in the format ConvertTextWeights gives
// it, counted by the one storage rule (WeightBytes).
struct MatrixBytes {
  WeightFormat format;
  int64_t plain_element;  // bytes per weight of a matrix left unconverted

  int64_t operator()(int64_t rows, int64_t cols, int64_t full_cols) const {
    WeightMatrix m;
    m.rows = rows;
    m.cols = cols;
    m.format = plain_element == 2 ? WeightMatrix::Format::kBF16 : WeightMatrix::Format::kF32;
    if (full_cols % kInt8Block == 0 && format == WeightFormat::kInt8) m.format = WeightMatrix::Format::kInt8;
    if (full_cols % kInt8Block == 0 && format == WeightFormat::kInt4) m.format = WeightMatrix::Format::kInt4;
    return WeightBytes(m);
  }
};

// bf16 matrices are read from the mapping as they are; any other float dtype
// is widened to f32 at load (LoadWeightMatrix).
absl::StatusOr<int64_t> PlainElementBytes(const Checkpoint& ckpt, const std::string& name) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name));
  return t.dtype == DType::kBF16 ? 2 : 4;
}

}  // namespace

absl::StatusOr<DecodeBytes> DecodeWeightBytes(const TextModel& model, const ElasticPlan* plan, WeightFormat format) {
  const TextConfig& c = model.text_config();
  const Checkpoint& ckpt = model.checkpoint();
  ASSIGN_OR_RETURN(const int64_t plain, PlainElementBytes(ckpt, absl::StrCat(kTextPrefix, "embed_tokens.weight")));
  const MatrixBytes bytes{format, plain};
  // The token's embedding row: embed_tokens is read again, whole, as the LM head.
  int64_t total = c.hidden_size * plain;
  int64_t not_read = 0;  // rows of sparse layers' up / down the top-k cut skips
  RETURN_IF_ERROR(ForEachTextTensor(
      c, plan ? plan->specs : model.layer_specs(), nullptr, [&](const TextTensorRef& t) -> absl::Status {
        if (!t.loaded && t.def.storage != TensorStorage::kElsewhere) return absl::OkStatus();  // KV-shared k/v
        switch (t.def.storage) {
          case TensorStorage::kF32:  // norm scales, AltUp coefficients: not counted
            return absl::OkStatus();
          case TensorStorage::kElsewhere: {  // the per-layer table: the token's row
            ASSIGN_OR_RETURN(const TensorInfo table, ckpt.Get(t.name));
            total += t.shape[1] * static_cast<int64_t>(DTypeSize(table.dtype));
            return absl::OkStatus();
          }
          case TensorStorage::kAsStored:  // the AltUp router: never converted
            total += NumElements(t.shape) * plain;
            return absl::OkStatus();
          case TensorStorage::kConvertible: {
            // A plan's layers read gate/up's top rows and down's left columns.
            const std::vector<int64_t> read = t.spec ? TextTensorShape(t.def, c, t.spec->ffn_width) : t.shape;
            const int64_t whole = bytes(read[0], read[1], t.shape[1]);
            total += whole;
            const std::string_view name = t.def.name;
            if (t.spec && t.spec->activation_sparsity > 0.0f &&
                (name == "mlp.up_proj.weight" || name == "mlp.down_proj.weight")) {
              // Kept channels: rows of up [ffn, hidden], rows of down
              // transposed at load to [ffn, hidden] (blocks along hidden).
              const int64_t ffn = t.spec->ffn_width;
              const auto kept = static_cast<int64_t>(std::ceil(ffn * (1.0 - t.spec->activation_sparsity)));
              not_read += whole - bytes(kept, c.hidden_size, c.hidden_size);
            }
            return absl::OkStatus();
          }
        }
        return absl::OkStatus();
      }));
  return DecodeBytes{total - not_read, total};
}

}  // namespace gemma3n
