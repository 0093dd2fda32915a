// The sub-sampling convolution projection (SSCP): log-mel [T, F] -> two
// 3x3/stride-2 convolutions, each followed by a cumulative group norm over
// (frequency, channel) and ReLU -> flatten (freq, channel) -> linear to the
// conformer width. Time is padded (0, k-1) ("reverse causal"), frequency
// (1, 1). T shrinks 4x: [T, 128] -> [T/4, hidden].
#pragma once

#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "audio_worker/encoder/audio_encoder_config.h"
#include "common/checkpoint/checkpoint.h"
#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

struct SscpConvWeights {
  std::vector<float> kernel;  // [out, in, kh, kw]
  std::vector<float> norm;    // [out]
  int in_channels = 0, out_channels = 0, kh = 0, kw = 0, sh = 0, sw = 0;
};

struct SubsampleConvWeights {
  SscpConvWeights conv[2];
  WeightMatrix input_proj;  // [hidden, f_out * c_out]
  int f_out = 0;            // frequency bins after both convolutions
};

// Fills the convolutions' geometry of `w` from the config and visits the
// SSCP's tensors: name, shape and field in `w`.
absl::Status ForEachSubsampleTensor(const AudioEncoderConfig& c, SubsampleConvWeights& w,
                                    absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit);
absl::StatusOr<SubsampleConvWeights> LoadSubsampleConv(const Checkpoint& ckpt, const AudioEncoderConfig& c);

// features [t, feat] -> out [t_sub, hidden]; returns t_sub.
int64_t SubsampleConvForward(ThreadPool& pool, const SubsampleConvWeights& w, const AudioEncoderConfig& c, const float* features,
                             int64_t t, std::vector<float>& out);

}  // namespace gemma3n
