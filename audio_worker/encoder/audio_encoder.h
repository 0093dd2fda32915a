// The Gemma 3n audio tower (model.audio_tower.*, Gemma3nAudioEncoder) and the
// audio embedder (model.embed_audio.*): log-mel features of one clip ->
// encoder states (one per 4 sub-sampled frames, ~160 ms) -> soft tokens of
// the text model's width. Loads only those two prefixes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/kernels/thread_pool.h"
#include "absl/status/statusor.h"
#include "audio_worker/encoder/audio_encoder_config.h"
#include "audio_worker/encoder/conformer_block.h"
#include "audio_worker/encoder/subsample_conv.h"
#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/embedder/multimodal_embedder.h"

namespace gemma3n {

struct AudioEncoding {
  int64_t tokens = 0;
  std::vector<float> states;       // [tokens, audio hidden], zero where padding
  std::vector<uint8_t> padding;    // [tokens], 1 = padding (HF audio_mel_mask)
  std::vector<float> soft_tokens;  // [tokens, text hidden], embed_audio soft path
  // Stages, for tests and debugging.
  std::vector<float> sscp_output;                 // [t_sub, audio hidden]
  std::vector<std::vector<float>> block_outputs;  // per block [t_sub, audio hidden]
};

// Every tensor of model.audio_tower.* and model.embed_audio.* for this config
// (the Hugging Face layout), for writing synthetic checkpoints.
std::vector<NamedShape> AudioTowerTensorShapes(const AudioEncoderConfig& c, const EmbedderVocab& vocab,
                                                     int text_hidden);

class AudioEncoder {
 public:
  // pool: the threads to encode on (not owned); null = a pool of its own.
  static absl::StatusOr<std::unique_ptr<AudioEncoder>> Load(const std::string& model_dir, ThreadPool* pool = nullptr);

  const AudioEncoderConfig& config() const { return config_; }
  const Checkpoint& checkpoint() const { return *ckpt_; }

  // features [frames, input_feat_size]; valid[frames] = 1 for real frames.
  absl::StatusOr<AudioEncoding> Encode(const std::vector<float>& features, const std::vector<uint8_t>& valid,
                                       bool keep_stages = false) const;

  // The row that fills padded and missing soft-token slots: embed_audio of
  // the last audio hard id (the model vocabulary's last id). [text hidden]
  absl::StatusOr<std::vector<float>> PaddingEmbedding() const;

 private:
  AudioEncoder() = default;
  AudioEncoderConfig config_;
  std::unique_ptr<ModelThreads> threads_;
  ThreadPool* pool_ = nullptr;  // threads_->pool()
  std::unique_ptr<Checkpoint> ckpt_;
  SubsampleConvWeights sscp_;
  std::vector<ConformerBlockWeights> blocks_;
  std::unique_ptr<MultimodalEmbedder> embedder_;
  EmbedderVocab vocab_;
};

}  // namespace gemma3n
