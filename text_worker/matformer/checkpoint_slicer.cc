#include "text_worker/matformer/checkpoint_slicer.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/checkpoint.h"
#include "common/checkpoint/safetensors_writer.h"
#include "common/config/model_config.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/text_tensors.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;

// Index ranges [begin, end) of one dimension of a tensor.
using Ranges = std::vector<std::pair<int64_t, int64_t>>;

// The rows of `rows` x the columns of `cols` of a 2-D tensor, written row by row.
SafetensorsWriter::Producer Gather(const TensorInfo& t, Ranges rows, Ranges cols) {
  return [t, rows = std::move(rows), cols = std::move(cols)](std::ostream& out) {
    const int64_t elem = DTypeSize(t.dtype), width = t.shape[1];
    for (const auto& [r0, r1] : rows) {
      for (int64_t r = r0; r < r1; ++r) {
        for (const auto& [c0, c1] : cols) {
          out.write(reinterpret_cast<const char*>(t.data + (r * width + c0) * elem), (c1 - c0) * elem);
        }
      }
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

// How the sub-model keeps one dimension of a tensor: the first `ffn` entries
// of an FFN dimension, the kept layers' P-blocks of a layers x P one, all of
// any other.
Ranges Kept(TextDim dim, int64_t size, int64_t ffn, const std::vector<int>& kept, int64_t p) {
  if (dim == TextDim::kFfn) return {{0, ffn}};
  if (dim != TextDim::kLayersPle) return {{0, size}};
  Ranges out;
  for (int layer : kept) out.emplace_back(layer * p, (layer + 1) * p);
  return out;
}

int64_t Count(const Ranges& ranges) {
  int64_t n = 0;
  for (const auto& [b, e] : ranges) n += e - b;
  return n;
}

// The text tensors MatFormer slices (those with an FFN or a layers x P
// dimension), by checkpoint name (layers: the original index), with their shape.
struct SlicedTensor {
  const TextTensorDef* def;
  std::vector<int64_t> shape;
};
std::map<std::string, SlicedTensor> SlicedTensorsByName(const TextConfig& config) {
  const auto sliced = [](TextDim d) { return d == TextDim::kFfn || d == TextDim::kLayersPle; };
  std::map<std::string, SlicedTensor> out;
  (void)ForEachTextTensor(config, BuildLayerSpecs(config), nullptr, [&](const TextTensorRef& t) {
    if (sliced(t.def.rows) || sliced(t.def.cols)) out[t.name] = {&t.def, t.shape};
    return absl::OkStatus();
  });
  return out;
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

// Every tensor of the checkpoint as the sub-model of `plan` holds it: skipped
// layers dropped, the rest renumbered, FFN and layers x P dimensions cut.
absl::Status AddSlicedTensors(const Checkpoint& ckpt, const TextConfig& config, const ElasticPlan& plan,
                              SafetensorsWriter& writer) {
  std::vector<int> new_index(config.num_hidden_layers, -1);
  for (size_t k = 0; k < plan.kept.size(); ++k) new_index[plan.kept[k]] = static_cast<int>(k);
  const int64_t p = config.hidden_size_per_layer_input;
  const std::map<std::string, SlicedTensor> text = SlicedTensorsByName(config);
  static const std::regex kLayerName(R"(model\.language_model\.layers\.(\d+)\.(.*))");

  for (const std::string& name : ckpt.TensorNames()) {
    ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name));
    std::string renamed = name;
    int64_t ffn = 0;  // the sliced layer's FFN width
    std::smatch m;
    if (std::regex_match(name, m, kLayerName)) {
      const int old = std::stoi(m[1].str());
      if (old >= config.num_hidden_layers) {
        return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " names a layer beyond the config's ",
                                                       config.num_hidden_layers));
      }
      if (new_index[old] < 0) continue;  // skipped layer
      renamed = absl::StrCat(kTextPrefix, "layers.", new_index[old], ".", m[2].str());
      ffn = plan.sliced_config.intermediate_size[new_index[old]];
    }
    auto sliced = text.find(name);
    if (sliced == text.end()) {  // kept whole: tensors of other parts, vectors, unsliced matrices
      RETURN_IF_ERROR(writer.Add(renamed, t.dtype, t.shape, Whole(t)));
      continue;
    }
    ASSIGN_OR_RETURN(t, ckpt.Get(name, sliced->second.shape));
    const TextTensorDef& d = *sliced->second.def;
    Ranges rows = Kept(d.rows, t.shape[0], ffn, plan.kept, p), cols = Kept(d.cols, t.shape[1], ffn, plan.kept, p);
    const std::vector<int64_t> shape = {Count(rows), Count(cols)};
    RETURN_IF_ERROR(writer.Add(renamed, t.dtype, shape, Gather(t, std::move(rows), std::move(cols))));
  }
  return absl::OkStatus();
}

// The tokenizer and processor files the model directory has.
absl::Status CopyProcessorFiles(const std::string& model_dir, const std::string& out_dir) {
  std::error_code ec;
  for (const char* file : {"tokenizer.json", "tokenizer.model", "tokenizer_config.json", "special_tokens_map.json",
                           "preprocessor_config.json", "processor_config.json", "generation_config.json",
                           "chat_template.jinja", "chat_template.json"}) {
    const fs::path src = fs::path(model_dir) / file;
    if (fs::exists(src, ec)) fs::copy_file(src, fs::path(out_dir) / file, fs::copy_options::overwrite_existing, ec);
    if (ec) return absl::InternalError(absl::StrCat("cannot copy ", src.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
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

  SafetensorsWriter writer(out_dir, options.max_shard_bytes);
  RETURN_IF_ERROR(AddSlicedTensors(*ckpt, config.text, plan, writer));
  RETURN_IF_ERROR(writer.Finish());

  RETURN_IF_ERROR(CopyProcessorFiles(model_dir, out_dir));
  std::ofstream(fs::path(out_dir) / "config.json") << SlicedConfig(ckpt->config(), plan.sliced_config).dump(2) << "\n";
  spdlog::info("wrote profile '{}' ({} layers, {:.3f}B effective parameters) to {}", profile.name,
               plan.sliced_config.num_hidden_layers, plan.effective_params / 1e9, out_dir);
  return absl::OkStatus();
}

}  // namespace gemma3n
