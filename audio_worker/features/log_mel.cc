#include "audio_worker/features/log_mel.h"

#include <fftw3.h>

#include <cmath>
#include <complex>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"

namespace gemma3n {
namespace {

// HTK-mel triangular filters, [n_freqs, n_mels], as create_fb_matrix (norm None).
std::vector<double> MelFilters(const LogMelConfig& c) {
  const int n_freqs = c.fft_length / 2 + 1, n_mels = c.feature_size;
  const auto hz_to_mel = [](double f) { return 2595.0 * std::log10(1.0 + f / 700.0); };
  const double m_min = hz_to_mel(c.min_frequency), m_max = hz_to_mel(c.max_frequency);
  std::vector<double> f_pts(n_mels + 2);
  for (int i = 0; i < n_mels + 2; ++i) {
    const double m = m_min + (m_max - m_min) * i / (n_mels + 1);  // linspace
    f_pts[i] = 700.0 * (std::pow(10.0, m / 2595.0) - 1.0);
  }
  std::vector<double> fb(static_cast<size_t>(n_freqs) * n_mels);
  const float bin_hz = static_cast<float>(static_cast<double>(c.sampling_rate) / c.fft_length);
  for (int k = 0; k < n_freqs; ++k) {
    const double freq = static_cast<float>(k) * bin_hz;  // float32 in the reference
    for (int m = 0; m < n_mels; ++m) {
      const double down = -(f_pts[m] - freq) / (f_pts[m + 1] - f_pts[m]);
      const double up = (f_pts[m + 2] - freq) / (f_pts[m + 2] - f_pts[m + 1]);
      fb[static_cast<size_t>(k) * n_mels + m] = std::max(0.0, std::min(down, up));
    }
  }
  return fb;
}

// FFTW's planner is not thread-safe; plans are made under this lock.
std::mutex g_fftw_planner_mu;

}  // namespace

absl::StatusOr<LogMelConfig> LogMelConfigFromJson(const nlohmann::json& j) {
  LogMelConfig c;
  if (!j.is_object()) return absl::InvalidArgumentError("preprocessor config is not a JSON object");
  const auto number = [&](const char* key, auto& field) -> absl::Status {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return absl::OkStatus();
    using Field = std::remove_reference_t<decltype(field)>;
    if (!it->is_number() || !FitsIn<Field>(*it)) {
      return absl::InvalidArgumentError(absl::StrCat("preprocessor config: '", key, "' is not a number in range"));
    }
    field = it->get<Field>();
    return absl::OkStatus();
  };
  for (absl::Status s : {number("sampling_rate", c.sampling_rate), number("feature_size", c.feature_size),
                         number("frame_length", c.frame_length), number("hop_length", c.hop_length),
                         number("fft_length", c.fft_length), number("min_frequency", c.min_frequency),
                         number("max_frequency", c.max_frequency), number("preemphasis", c.preemphasis),
                         number("mel_floor", c.mel_floor), number("input_scale_factor", c.input_scale_factor)}) {
    if (!s.ok()) return s;
  }
  if (auto it = j.find("preemphasis_htk_flavor"); it != j.end() && it->is_boolean()) {
    c.preemphasis_htk_flavor = it->get<bool>();
  }
  if (c.sampling_rate <= 0 || c.feature_size <= 0 || c.frame_length <= 0 || c.hop_length <= 0 ||
      c.fft_length < c.frame_length || c.min_frequency < 0 || c.max_frequency <= c.min_frequency) {
    return absl::InvalidArgumentError("preprocessor config: inconsistent audio feature sizes");
  }
  // The cost of every clip follows these (per frame: an FFT of fft_length and
  // a filter bank of fft/2+1 x features; sampling_rate / hop_length frames a
  // second): up to 4x the reference's 1024, 128 and 100 frames/s (found by
  // fuzzing: hop_length 1 took minutes per clip, fft_length 2^31-1 tried to
  // allocate 2^30 x 128 doubles).
  constexpr int kMaxFftLength = 4096, kMaxFeatures = 512, kMaxFramesPerSecond = 400, kMaxSamplingRate = 768000;
  if (c.fft_length > kMaxFftLength || c.feature_size > kMaxFeatures || c.sampling_rate > kMaxSamplingRate ||
      c.hop_length > c.sampling_rate || c.sampling_rate / c.hop_length > kMaxFramesPerSecond) {
    return absl::InvalidArgumentError(absl::StrCat(
        "preprocessor config: fft_length at most ", kMaxFftLength, ", feature_size at most ", kMaxFeatures,
        ", sampling_rate at most ", kMaxSamplingRate, ", at most ", kMaxFramesPerSecond,
        " frames a second (sampling_rate / hop_length) and at least one"));
  }
  return c;
}

LogMelExtractor::LogMelExtractor(const LogMelConfig& config) : config_(config) {
  window_.resize(config.frame_length);
  for (int i = 0; i < config.frame_length; ++i) {
    // Periodic Hann window, computed as the reference does (float32 arange).
    window_[i] = static_cast<float>(0.5 * (1.0 - std::cos(2.0 * M_PI * static_cast<float>(i) / config.frame_length)));
  }
  mel_filters_ = MelFilters(config);
}

absl::StatusOr<LogMelFeatures> LogMelExtractor::Extract(absl::Span<const float> waveform) const {
  const LogMelConfig& c = config_;
  if (static_cast<int64_t>(waveform.size()) > c.max_samples) {
    return absl::InvalidArgumentError(absl::StrCat("audio clip of ", waveform.size(), " samples is longer than ",
                                                   c.max_samples, " (split it into windows first)"));
  }
  // Pad to a multiple of pad_to_multiple_of with zeros; the mask marks real samples.
  const int64_t real = static_cast<int64_t>(waveform.size());
  const int64_t padded = (real + c.pad_to_multiple_of - 1) / c.pad_to_multiple_of * c.pad_to_multiple_of;
  std::vector<float> x(static_cast<size_t>(padded), 0.0f);
  for (int64_t i = 0; i < real; ++i) x[i] = waveform[i] * c.input_scale_factor;

  const int frame_span = c.frame_length + 1;  // one extra sample feeds the pre-emphasis
  if (padded < frame_span) {
    return absl::InvalidArgumentError(absl::StrCat("audio clip of ", real, " samples is too short for one ",
                                                   c.frame_length, "-sample frame"));
  }
  LogMelFeatures out;
  out.frames = (padded - frame_span) / c.hop_length + 1;
  out.features = c.feature_size;
  out.values.resize(static_cast<size_t>(out.frames) * c.feature_size);
  out.mask.resize(out.frames);

  const int n_freqs = c.fft_length / 2 + 1;
  std::vector<double> in(c.fft_length, 0.0);
  std::vector<std::complex<double>> spectrum(n_freqs);
  fftw_plan plan;
  {
    std::lock_guard<std::mutex> lock(g_fftw_planner_mu);
    plan = fftw_plan_dft_r2c_1d(c.fft_length, in.data(), reinterpret_cast<fftw_complex*>(spectrum.data()),
                                FFTW_ESTIMATE);
  }
  std::vector<double> magnitude(n_freqs);
  const float keep = 1.0f - c.preemphasis;  // float32, as NumPy rounds the scalar
  for (int64_t f = 0; f < out.frames; ++f) {
    const float* s = x.data() + f * c.hop_length;
    for (int i = 0; i < c.frame_length; ++i) {
      float v;
      if (c.preemphasis > 0.0f && c.preemphasis_htk_flavor) {
        v = i == 0 ? s[0] * keep : s[i] - c.preemphasis * s[i - 1];
      } else if (c.preemphasis > 0.0f) {
        v = s[i + 1] - c.preemphasis * s[i];
      } else {
        v = s[i];
      }
      in[i] = static_cast<double>(v * window_[i]);
    }
    fftw_execute(plan);
    for (int k = 0; k < n_freqs; ++k) magnitude[k] = std::abs(spectrum[k]);
    float* row = out.values.data() + f * c.feature_size;
    for (int m = 0; m < c.feature_size; ++m) {
      double mel = 0.0;
      for (int k = 0; k < n_freqs; ++k) mel += magnitude[k] * mel_filters_[static_cast<size_t>(k) * c.feature_size + m];
      row[m] = static_cast<float>(std::log(std::max(mel, c.mel_floor)));
    }
    // mask[::hop][:frames]: the frame is real when its first sample is.
    out.mask[f] = f * c.hop_length < real ? 1 : 0;
  }
  {
    std::lock_guard<std::mutex> lock(g_fftw_planner_mu);
    fftw_destroy_plan(plan);
  }
  return out;
}

}  // namespace gemma3n
