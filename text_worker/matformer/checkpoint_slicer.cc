#include "text_worker/matformer/checkpoint_slicer.h"

#include <filesystem>
#include <fstream>
#include <regex>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/checkpoint.h"
#include "common/checkpoint/safetensors_writer.h"
#include "common/config/model_config.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/matformer/elastic_plan.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;

constexpr char kLayerPrefix[] = "model.language_model.layers.";

// Rows [row_begin, row_begin + rows) x columns [col_begin, col_begin + cols)
// of a 2-D tensor, written row by row.
SafetensorsWriter::Producer Block(const TensorInfo& t, int64_t row_begin, int64_t rows, int64_t col_begin,
                                  int64_t cols) {
  return [t, row_begin, rows, col_begin, cols](std::ostream& out) {
    const int64_t elem = DTypeSize(t.dtype), width = t.shape[1];
    for (int64_t r = row_begin; r < row_begin + rows; ++r) {
      out.write(reinterpret_cast<const char*>(t.data + (r * width + col_begin) * elem), cols * elem);
    }
    return absl::OkStatus();
  };
}

SafetensorsWriter::Producer Whole(const TensorInfo& t) {
  return [t](std::ostream& out) {
    out.write(reinterpret_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
    return absl::OkStatus();
  };
}

// Keeps, for each row, the P-wide slices of the kept layers: [R, L*P] -> [R, K*P].
SafetensorsWriter::Producer KeptSlicesPerRow(const TensorInfo& t, std::vector<int> kept, int64_t p) {
  return [t, kept, p](std::ostream& out) {
    const int64_t elem = DTypeSize(t.dtype), width = t.shape[1];
    for (int64_t r = 0; r < t.shape[0]; ++r) {
      for (int layer : kept) {
        out.write(reinterpret_cast<const char*>(t.data + (r * width + layer * p) * elem), p * elem);
      }
    }
    return absl::OkStatus();
  };
}

absl::Status Check2D(const TensorInfo& t) {
  if (t.shape.size() != 2) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", t.name, " in ", t.file, " should be 2-D, has shape ",
                                                   t.ShapeString()));
  }
  return absl::OkStatus();
}

nlohmann::json SlicedConfig(const nlohmann::json& original, const TextConfig& sliced) {
  nlohmann::json config = original;
  nlohmann::json& text = config["text_config"];
  text["num_hidden_layers"] = sliced.num_hidden_layers;
  text["intermediate_size"] = sliced.intermediate_size;
  text["num_kv_shared_layers"] = sliced.num_kv_shared_layers;
  text["activation_sparsity_pattern"] = sliced.activation_sparsity_pattern;
  nlohmann::json types = nlohmann::json::array();
  for (AttentionType t : sliced.layer_types) types.push_back(t == AttentionType::kFull ? "full_attention" : "sliding_attention");
  text["layer_types"] = types;
  return config;
}

}  // namespace

absl::Status WriteSlicedCheckpoint(const std::string& model_dir, const SlicingProfile& profile,
                                   const std::string& out_dir, const SliceOptions& options) {
  ASSIGN_OR_RETURN(auto ckpt, Checkpoint::Open(model_dir));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(ckpt->config()));
  ASSIGN_OR_RETURN(ElasticPlan plan, PlanProfile(config.text, profile));
  std::error_code ec;
  if (fs::exists(fs::path(out_dir) / "config.json", ec)) {
    return absl::AlreadyExistsError(absl::StrCat(out_dir, " already holds a checkpoint"));
  }
  fs::create_directories(out_dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", out_dir, ": ", ec.message()));

  std::vector<int> new_index(config.text.num_hidden_layers, -1);
  for (size_t k = 0; k < plan.kept.size(); ++k) new_index[plan.kept[k]] = static_cast<int>(k);
  const int64_t p = config.text.hidden_size_per_layer_input;
  static const std::regex kLayerName(R"(model\.language_model\.layers\.(\d+)\.(.*))");

  SafetensorsWriter writer(out_dir, options.max_shard_bytes);
  for (const std::string& name : ckpt->TensorNames()) {
    ASSIGN_OR_RETURN(TensorInfo t, ckpt->Get(name));
    std::smatch m;
    if (std::regex_match(name, m, kLayerName)) {
      const int old = std::stoi(m[1].str());
      if (old >= config.text.num_hidden_layers) {
        return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " names a layer beyond the config's ",
                                                       config.text.num_hidden_layers));
      }
      if (new_index[old] < 0) continue;  // skipped layer
      const std::string rest = m[2].str();
      const std::string renamed = absl::StrCat(kLayerPrefix, new_index[old], ".", rest);
      const int64_t d = plan.sliced_config.intermediate_size[new_index[old]];
      if (rest == "mlp.gate_proj.weight" || rest == "mlp.up_proj.weight") {
        RETURN_IF_ERROR(Check2D(t));
        RETURN_IF_ERROR(writer.Add(renamed, t.dtype, {d, t.shape[1]}, Block(t, 0, d, 0, t.shape[1])));
      } else if (rest == "mlp.down_proj.weight") {
        RETURN_IF_ERROR(Check2D(t));
        RETURN_IF_ERROR(writer.Add(renamed, t.dtype, {t.shape[0], d}, Block(t, 0, t.shape[0], 0, d)));
      } else {
        RETURN_IF_ERROR(writer.Add(renamed, t.dtype, t.shape, Whole(t)));
      }
    } else if (name == "model.language_model.per_layer_model_projection.weight") {
      RETURN_IF_ERROR(Check2D(t));
      const int64_t h = t.shape[1];
      // Rows of kept layers: [L*P, H] -> [K*P, H], one P-row block per layer.
      SafetensorsWriter::Producer rows = [t, kept = plan.kept, p, h](std::ostream& out) {
        const int64_t elem = DTypeSize(t.dtype);
        for (int layer : kept) out.write(reinterpret_cast<const char*>(t.data + layer * p * h * elem), p * h * elem);
        return absl::OkStatus();
      };
      RETURN_IF_ERROR(writer.Add(name, t.dtype, {static_cast<int64_t>(plan.kept.size()) * p, h}, rows));
    } else if (name == "model.language_model.embed_tokens_per_layer.weight") {
      RETURN_IF_ERROR(Check2D(t));
      RETURN_IF_ERROR(writer.Add(name, t.dtype, {t.shape[0], static_cast<int64_t>(plan.kept.size()) * p},
                                 KeptSlicesPerRow(t, plan.kept, p)));
    } else {
      RETURN_IF_ERROR(writer.Add(name, t.dtype, t.shape, Whole(t)));
    }
  }
  RETURN_IF_ERROR(writer.Finish());

  for (const char* file : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                           "preprocessor_config.json", "processor_config.json", "generation_config.json",
                           "chat_template.jinja", "chat_template.json"}) {
    const fs::path src = fs::path(model_dir) / file;
    if (fs::exists(src, ec)) fs::copy_file(src, fs::path(out_dir) / file, fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot copy ", src.string(), ": ", ec.message()));
  }
  std::ofstream(fs::path(out_dir) / "config.json") << SlicedConfig(ckpt->config(), plan.sliced_config).dump(2) << "\n";
  spdlog::info("wrote profile '{}' ({} layers, {:.3f}B effective parameters) to {}", profile.name,
               plan.sliced_config.num_hidden_layers, plan.effective_params / 1e9, out_dir);
  return absl::OkStatus();
}

}  // namespace gemma3n
