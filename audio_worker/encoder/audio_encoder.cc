#include "audio_worker/encoder/audio_encoder.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

constexpr char kAudioEmbedderPrefix[] = "model.embed_audio.";

}  // namespace

std::vector<NamedShape> AudioTowerTensorShapes(const AudioEncoderConfig& c, const EmbedderVocab& vocab,
                                                     int text_hidden) {
  std::vector<NamedShape> out;
  const auto list = [&](const NamedWeightSlot& t) {
    out.push_back({t.name, t.shape});
    return absl::OkStatus();
  };
  SubsampleConvWeights sscp;
  (void)ForEachSubsampleTensor(c, sscp, list);
  for (int i = 0; i < c.num_layers; ++i) {
    ConformerBlockWeights block;
    (void)ForEachConformerTensor(c, i, block, list);
  }
  for (NamedShape& t : MultimodalEmbedder::TensorShapes(kAudioEmbedderPrefix, vocab, text_hidden)) {
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<AudioEncoder>> AudioEncoder::Load(const std::string& model_dir, ThreadPool* pool) {
  auto e = std::unique_ptr<AudioEncoder>(new AudioEncoder());
  e->threads_ = std::make_unique<ModelThreads>(pool);
  e->pool_ = &e->threads_->pool();
  ASSIGN_OR_RETURN(e->ckpt_, Checkpoint::Open(model_dir, {"model.audio_tower.", kAudioEmbedderPrefix}));
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
  ASSIGN_OR_RETURN(e->embedder_, MultimodalEmbedder::Load(*e->ckpt_, kAudioEmbedderPrefix, vocab, text_hidden, *e->pool_));
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
