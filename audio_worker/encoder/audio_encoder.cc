#include "audio_worker/encoder/audio_encoder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

std::vector<NamedShape> AudioTowerTensorShapes(const AudioEncoderConfig& c, const EmbedderVocab& vocab,
                                                     int text_hidden) {
  const int64_t h = c.hidden_size, hd = h / c.num_heads;
  const std::string s = "model.audio_tower.subsample_conv_projection.";
  std::vector<NamedShape> out;
  int64_t in = 1, f = c.input_feat_size;
  for (int i = 0; i < 2; ++i) {
    const int64_t o = c.conv_channels[i];
    out.push_back({absl::StrCat(s, "conv_", i, ".conv.weight"), {o, in, c.conv_kernel[i][0], c.conv_kernel[i][1]}});
    out.push_back({absl::StrCat(s, "conv_", i, ".norm.weight"), {o}});
    f = (f + 2 - c.conv_kernel[i][1]) / c.conv_stride[i][1] + 1;
    in = o;
  }
  out.push_back({s + "input_proj_linear.weight", {h, f * in}});
  for (int i = 0; i < c.num_layers; ++i) {
    const std::string p = absl::StrCat("model.audio_tower.conformer.", i, ".");
    for (const char* ff : {"ffw_layer_start.", "ffw_layer_end."}) {
      out.push_back({p + ff + "pre_layer_norm.weight", {h}});
      out.push_back({p + ff + "ffw_layer_1.weight", {4 * h, h}});
      out.push_back({p + ff + "ffw_layer_2.weight", {h, 4 * h}});
      out.push_back({p + ff + "post_layer_norm.weight", {h}});
    }
    for (const char* m : {"attention.attn.relative_position_embedding.pos_proj.weight", "attention.attn.q_proj.weight",
                          "attention.attn.k_proj.weight", "attention.attn.v_proj.weight", "attention.post.weight",
                          "lconv1d.linear_end.weight"}) {
      out.push_back({p + m, {h, h}});
    }
    for (const char* v : {"attention.pre_attn_norm.weight", "attention.post_norm.weight", "lconv1d.pre_layer_norm.weight",
                          "lconv1d.conv_norm.weight", "norm.weight"}) {
      out.push_back({p + v, {h}});
    }
    out.push_back({p + "attention.attn.per_dim_scale", {hd}});
    out.push_back({p + "lconv1d.linear_start.weight", {2 * h, h}});
    out.push_back({p + "lconv1d.depthwise_conv1d.weight", {h, 1, c.conv_kernel_size}});
  }
  const std::string e = "model.embed_audio.";
  out.push_back({e + "embedding.weight", {vocab.vocab_size, vocab.hidden_size}});
  out.push_back({e + "hard_embedding_norm.weight", {vocab.hidden_size}});
  out.push_back({e + "soft_embedding_norm.weight", {vocab.hidden_size}});
  out.push_back({e + "embedding_projection.weight", {text_hidden, vocab.hidden_size}});
  return out;
}

absl::StatusOr<std::unique_ptr<AudioEncoder>> AudioEncoder::Load(const std::string& model_dir, ThreadPool* pool) {
  auto e = std::unique_ptr<AudioEncoder>(new AudioEncoder());
  e->threads_ = std::make_unique<ModelThreads>(pool);
  e->pool_ = &e->threads_->pool();
  ASSIGN_OR_RETURN(e->ckpt_, Checkpoint::Open(model_dir, {"model.audio_tower.", "model.embed_audio."}));
  const nlohmann::json& config = e->ckpt_->config();
  auto audio = config.find("audio_config");
  if (audio == config.end()) return absl::InvalidArgumentError(absl::StrCat(model_dir, "/config.json has no audio_config"));
  ASSIGN_OR_RETURN(e->config_, ParseAudioEncoderConfig(*audio));
  ASSIGN_OR_RETURN(EmbedderVocab vocab, ParseEmbedderVocab(*audio));
  // Only the text width matters here (the embedder's output).
  const nlohmann::json* text = ObjectField(config, "text_config");
  const int text_hidden = text ? FieldOr<int>(*text, "hidden_size", 0) : 0;
  if (text_hidden <= 0) return absl::InvalidArgumentError("config: text_config.hidden_size is missing");
  ASSIGN_OR_RETURN(e->sscp_, LoadSubsampleConv(*e->ckpt_, e->config_));
  for (int i = 0; i < e->config_.num_layers; ++i) {
    ASSIGN_OR_RETURN(ConformerBlockWeights block, LoadConformerBlock(*e->ckpt_, e->config_, i));
    e->blocks_.push_back(std::move(block));
  }
  ASSIGN_OR_RETURN(e->embedder_, MultimodalEmbedder::Load(*e->ckpt_, "model.embed_audio.", vocab, text_hidden, *e->pool_));
  e->vocab_ = vocab;
  spdlog::info("loaded audio encoder from {}: {} conformer blocks, width {}", model_dir, e->config_.num_layers,
               e->config_.hidden_size);
  return e;
}

absl::StatusOr<std::vector<float>> AudioEncoder::PaddingEmbedding() const {
  std::vector<float> row(embedder_->text_hidden_size());
  RETURN_IF_ERROR(embedder_->EmbedHard({vocab_.vocab_offset + vocab_.vocab_size - 1}, row.data()));
  return row;
}

absl::StatusOr<AudioEncoding> AudioEncoder::Encode(const std::vector<float>& features,
                                                   const std::vector<uint8_t>& valid, bool keep_stages) const {
  const AudioEncoderConfig& c = config_;
  const int64_t frames = static_cast<int64_t>(valid.size());
  if (frames == 0 || static_cast<int64_t>(features.size()) != frames * c.input_feat_size) {
    return absl::InvalidArgumentError(absl::StrCat("audio features must be [frames, ", c.input_feat_size,
                                                   "] with one mask entry per frame"));
  }
  AudioEncoding out;
  std::vector<float> x;
  const int64_t t_sub = SubsampleConvForward(*pool_, sscp_, c, features.data(), frames, x);
  // The sub-sampled mask: the input frame at each output's first receptive-field step.
  const int64_t stride = static_cast<int64_t>(c.conv_stride[0][0]) * c.conv_stride[1][0];
  std::vector<uint8_t> padding(t_sub);
  for (int64_t s = 0; s < t_sub; ++s) padding[s] = valid[std::min(s * stride, frames - 1)] ? 0 : 1;
  if (keep_stages) out.sscp_output = x;
  for (const ConformerBlockWeights& block : blocks_) {
    ConformerBlockForward(*pool_, block, c, padding, x);
    if (keep_stages) out.block_outputs.push_back(x);
  }
  const int64_t h = c.hidden_size, r = c.reduction_factor;
  out.tokens = (t_sub + r - 1) / r;
  out.states.assign(static_cast<size_t>(out.tokens * h), 0.0f);
  out.padding.resize(out.tokens);
  for (int64_t i = 0; i < out.tokens; ++i) {
    out.padding[i] = padding[i * r];
    if (!out.padding[i]) std::copy_n(x.data() + i * r * h, h, out.states.data() + i * h);
  }
  out.soft_tokens.resize(static_cast<size_t>(out.tokens * embedder_->text_hidden_size()));
  embedder_->EmbedSoft(out.states.data(), out.tokens, out.soft_tokens.data());
  return out;
}

}  // namespace gemma3n
