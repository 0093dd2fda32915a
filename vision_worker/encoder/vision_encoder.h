// The Gemma 3n vision tower (MobileNet-V5, model.vision_tower.timm_model.*)
// driven by a VisionSpec, and the vision embedder (model.embed_vision.*):
// pixels [3, H, W] in [0, 1] -> feature map [out_h * out_w, C] -> soft tokens
// [out_h * out_w, text hidden]. Loads only those two prefixes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/checkpoint/checkpoint.h"
#include "common/embedder/multimodal_embedder.h"
#include "vision_worker/encoder/block_spec.h"
#include "vision_worker/encoder/feature_map.h"
#include "vision_worker/encoder/vision_tensors.h"

namespace gemma3n {

struct VisionEncoding {
  FeatureMap features;             // MSFA output [out_h, out_w, C] (vision_out)
  std::vector<float> soft_tokens;  // [out_h * out_w, text hidden], token = row * out_w + col
  std::map<std::string, FeatureMap> stages;  // "conv_stem", "blocks.S.B" when asked for
};

// Every tensor of the vision tower and embedder for a spec (the timm / Hugging
// Face names, ForEachVisionTensor's order), for writing synthetic checkpoints.
std::vector<NamedShape> VisionTowerTensorShapes(const VisionSpec& spec, const EmbedderVocab& vocab,
                                                       int text_hidden);

class VisionEncoder {
 public:
  // pool: the threads to encode on (not owned); null = a pool of its own.
  static absl::StatusOr<std::unique_ptr<VisionEncoder>> Load(const std::string& model_dir,
                                                             ThreadPool* pool = nullptr);
  const VisionSpec& spec() const { return spec_; }
  const Checkpoint& checkpoint() const { return *ckpt_; }

  // pixels NCHW [3, size, size]; size 0 = the spec's input size. Other sizes
  // (the real tower takes 256, 512 and 768) keep the output grid: the fusion
  // adapter pools its highest-resolution map down to it, as timm does.
  // InvalidArgument for a size the network cannot take.
  absl::StatusOr<VisionEncoding> Encode(const std::vector<float>& pixels, bool keep_stages = false,
                                        int size = 0) const;

 private:
  VisionEncoder() = default;

  std::unique_ptr<ModelThreads> threads_;
  ThreadPool* pool_ = nullptr;  // threads_->pool()
  VisionSpec spec_;
  std::unique_ptr<Checkpoint> ckpt_;
  VisionTowerWeights weights_;
  std::unique_ptr<MultimodalEmbedder> embedder_;
};

}  // namespace gemma3n
