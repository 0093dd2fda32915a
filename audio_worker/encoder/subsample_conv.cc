#include "audio_worker/encoder/subsample_conv.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/kernels/matmul.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

constexpr char kPrefix[] = "model.audio_tower.subsample_conv_projection.";

// x [t, f, cin] (channels last) -> y [t_out, f_out, cout], zero padding of
// (0, kh-1) in time and (1, 1) in frequency.
void Conv(const SscpConvWeights& w, const std::vector<float>& x, int64_t t, int64_t f, std::vector<float>& y,
          int64_t& t_out, int64_t& f_out) {
  t_out = (t + w.kh - 1 - w.kh) / w.sh + 1;
  f_out = (f + 2 - w.kw) / w.sw + 1;
  y.assign(static_cast<size_t>(t_out * f_out * w.out_channels), 0.0f);
  for (int64_t to = 0; to < t_out; ++to) {
    for (int64_t fo = 0; fo < f_out; ++fo) {
      float* out = y.data() + (to * f_out + fo) * w.out_channels;
      for (int i = 0; i < w.kh; ++i) {
        const int64_t ti = to * w.sh + i;  // padded rows beyond t are zero
        if (ti >= t) continue;
        for (int j = 0; j < w.kw; ++j) {
          const int64_t fi = fo * w.sw + j - 1;
          if (fi < 0 || fi >= f) continue;
          const float* in = x.data() + (ti * f + fi) * w.in_channels;
          for (int co = 0; co < w.out_channels; ++co) {
            const float* k = w.kernel.data() + ((static_cast<int64_t>(co) * w.in_channels) * w.kh + i) * w.kw + j;
            float acc = 0.0f;
            for (int ci = 0; ci < w.in_channels; ++ci) acc += in[ci] * k[static_cast<int64_t>(ci) * w.kh * w.kw];
            out[co] += acc;
          }
        }
      }
    }
  }
}

// Cumulative group norm over time, statistics over (f, c) of all steps so far,
// as the reference computes them: the variance accumulates each step's squared
// deviations from that step's running mean. Then scale per channel and ReLU.
void CumulativeGroupNormRelu(std::vector<float>& y, int64_t t, int64_t f, int channels, const std::vector<float>& scale,
                             float eps) {
  const int64_t group = f * channels;
  double sum = 0.0, sum_sq = 0.0;
  for (int64_t s = 0; s < t; ++s) {
    float* row = y.data() + s * group;
    for (int64_t i = 0; i < group; ++i) sum += row[i];
    const double count = static_cast<double>(group) * (s + 1);
    const float mean = static_cast<float>(sum / count);
    double sq = 0.0;
    for (int64_t i = 0; i < group; ++i) sq += static_cast<double>(row[i] - mean) * (row[i] - mean);
    sum_sq += sq;
    const float inv = 1.0f / std::sqrt(static_cast<float>(sum_sq / count) + eps);
    for (int64_t i = 0; i < group; ++i) row[i] = std::max(0.0f, (row[i] - mean) * inv * scale[i % channels]);
  }
}

}  // namespace

absl::Status ForEachSubsampleTensor(const AudioEncoderConfig& c, SubsampleConvWeights& w,
                                    absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit) {
  int in_channels = 1;
  int64_t f = c.input_feat_size;
  for (int i = 0; i < 2; ++i) {
    SscpConvWeights& cw = w.conv[i];
    cw.in_channels = in_channels;
    cw.out_channels = c.conv_channels[i];
    cw.kh = c.conv_kernel[i][0];
    cw.kw = c.conv_kernel[i][1];
    cw.sh = c.conv_stride[i][0];
    cw.sw = c.conv_stride[i][1];
    const std::string p = absl::StrCat(kPrefix, "conv_", i, ".");
    RETURN_IF_ERROR(visit({p + "conv.weight", {cw.out_channels, cw.in_channels, cw.kh, cw.kw}, &cw.kernel}));
    RETURN_IF_ERROR(visit({p + "norm.weight", {cw.out_channels}, &cw.norm}));
    in_channels = cw.out_channels;
    f = (f + 2 - cw.kw) / cw.sw + 1;
  }
  w.f_out = static_cast<int>(f);
  return visit({std::string(kPrefix) + "input_proj_linear.weight", {c.hidden_size, f * in_channels}, &w.input_proj});
}

absl::StatusOr<SubsampleConvWeights> LoadSubsampleConv(const Checkpoint& ckpt, const AudioEncoderConfig& c) {
  SubsampleConvWeights w;
  RETURN_IF_ERROR(ForEachSubsampleTensor(c, w, [&](const NamedWeightSlot& t) { return LoadIntoSlot(ckpt, t); }));
  return w;
}

int64_t SubsampleConvForward(ThreadPool& pool, const SubsampleConvWeights& w, const AudioEncoderConfig& c, const float* features,
                             int64_t t, std::vector<float>& out) {
  std::vector<float> x(features, features + t * c.input_feat_size), y;
  int64_t f = c.input_feat_size;
  for (const SscpConvWeights& cw : w.conv) {
    int64_t t_out, f_out;
    Conv(cw, x, t, f, y, t_out, f_out);
    CumulativeGroupNormRelu(y, t_out, f_out, cw.out_channels, cw.norm, c.group_norm_eps);
    x.swap(y);
    t = t_out;
    f = f_out;
  }
  // x is [t, f, c]: exactly the reference's flatten order (freq-major, channel-minor).
  out.resize(static_cast<size_t>(t * c.hidden_size));
  MatMul(pool, x.data(), t, w.input_proj, out.data());
  return t;
}

}  // namespace gemma3n
