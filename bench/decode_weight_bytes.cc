#include "bench/decode_weight_bytes.h"

#include "common/checkpoint/dtype.h"
#include "common/status/status_macros.h"

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
  int64_t operator()(int64_t rows, int64_t cols) const { return (*this)(rows, cols, cols); }
};

// bf16 matrices are read from the mapping as they are; any other float dtype
// is widened to f32 at load (LoadWeightMatrix).
absl::StatusOr<int64_t> PlainElementBytes(const Checkpoint& ckpt, const std::string& name) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name));
  return t.dtype == DType::kBF16 ? 2 : 4;
}

}  // namespace

absl::StatusOr<int64_t> DecodeWeightBytes(const TextModel& model, const ElasticPlan* plan, WeightFormat format) {
  const TextConfig& c = model.text_config();
  const std::string p = kTextPrefix;
  ASSIGN_OR_RETURN(const int64_t plain, PlainElementBytes(model.checkpoint(), p + "embed_tokens.weight"));
  ASSIGN_OR_RETURN(const TensorInfo ple_table, model.checkpoint().Get(p + "embed_tokens_per_layer.weight"));
  const MatrixBytes bytes{format, plain};
  const int64_t h = c.hidden_size, q = c.num_attention_heads * c.head_dim,
                kv = c.num_key_value_heads * c.head_dim, n = c.altup_num_inputs,
                ple = c.hidden_size_per_layer_input, layers = c.num_hidden_layers;

  int64_t total = bytes(c.vocab_size, h)          // LM head
                  + h * plain                     // the token's embedding row (same matrix, another read)
                  + bytes(layers * ple, h)        // per_layer_model_projection
                  + 2 * (n - 1) * bytes(h, h)     // altup_projections, altup_unembed_projections
                  + layers * ple * static_cast<int64_t>(DTypeSize(ple_table.dtype));  // one PLE row
  for (const LayerSpec& spec : plan ? plan->specs : model.layer_specs()) {
    const int64_t f = spec.ffn_width, full_f = c.intermediate_size[spec.index];
    total += bytes(q, h) + bytes(h, q);                        // q_proj, o_proj
    if (!spec.kv_shared) total += 2 * bytes(kv, h);            // k_proj, v_proj
    total += 2 * bytes(f, h) + bytes(h, f, full_f);            // gate, up (top rows), down (left columns)
    total += n * h * plain;                                    // AltUp router: never converted
    total += bytes(c.laurel_rank, h) + bytes(h, c.laurel_rank);  // LAuReL
    total += bytes(ple, h) + bytes(h, ple);                    // per_layer_input_gate, per_layer_projection
  }
  return total;
}

}  // namespace gemma3n
