#include "audio_worker/decode/audio_decoder.h"

#include <samplerate.h>
#include <sndfile.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

// libsndfile's virtual I/O over a byte buffer.
struct MemoryFile {
  absl::Span<const uint8_t> bytes;
  sf_count_t pos = 0;
};

sf_count_t VioLength(void* user) { return static_cast<sf_count_t>(static_cast<MemoryFile*>(user)->bytes.size()); }
sf_count_t VioSeek(sf_count_t offset, int whence, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t size = static_cast<sf_count_t>(f->bytes.size());
  sf_count_t target = whence == SEEK_SET ? offset : whence == SEEK_CUR ? f->pos + offset : size + offset;
  f->pos = std::clamp<sf_count_t>(target, 0, size);
  return f->pos;
}
sf_count_t VioRead(void* out, sf_count_t count, void* user) {
  auto* f = static_cast<MemoryFile*>(user);
  const sf_count_t n = std::min<sf_count_t>(count, static_cast<sf_count_t>(f->bytes.size()) - f->pos);
  if (n <= 0) return 0;
  std::memcpy(out, f->bytes.data() + f->pos, static_cast<size_t>(n));
  f->pos += n;
  return n;
}
sf_count_t VioWrite(const void*, sf_count_t, void*) { return 0; }
sf_count_t VioTell(void* user) { return static_cast<MemoryFile*>(user)->pos; }

std::string FormatName(int format) {
  SF_FORMAT_INFO major{}, minor{};
  major.format = format & SF_FORMAT_TYPEMASK;
  minor.format = format & SF_FORMAT_SUBMASK;
  sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof major);
  sf_command(nullptr, SFC_GET_FORMAT_INFO, &minor, sizeof minor);
  return absl::StrCat(major.name ? major.name : "?", " / ", minor.name ? minor.name : "?");
}

// libsndfile accepts a WAV/AIFF whose data chunk is cut short and quietly
// reads what is there; its log says "data : <declared> (should be <present>)".
// A cut recording is an error the sender should hear about.
bool DataChunkTruncated(SNDFILE* sf, int64_t* declared, int64_t* present) {
  char log[8192] = {0};
  sf_command(sf, SFC_GET_LOG_INFO, log, sizeof log);
  static const std::regex kLine(R"(data\s*:\s*(\d+)\s*\(should be (\d+)\))");
  std::cmatch m;
  if (!std::regex_search(log, m, kLine)) return false;
  // SimpleAtoi, not std::stoll: a number past int64 must not throw.
  if (!absl::SimpleAtoi(m[1].str(), declared) || !absl::SimpleAtoi(m[2].str(), present)) return true;
  return *present < *declared;
}

absl::Status Invalid(const std::string& what) { return absl::InvalidArgumentError(absl::StrCat("audio: ", what)); }

uint32_t LittleEndian32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// A WAV's sample rate from its fmt chunk, read before libsndfile: it refuses
// a rate of 0 or 4 GHz with "SF_INFO struct incomplete", and the rate limit
// should be what the user hears. nullopt when this is not a RIFF/WAVE file or
// the fmt chunk is not found.
std::optional<int64_t> WavHeaderSampleRate(absl::Span<const uint8_t> b) {
  if (b.size() < 12 || std::memcmp(b.data(), "RIFF", 4) != 0 || std::memcmp(b.data() + 8, "WAVE", 4) != 0) {
    return std::nullopt;
  }
  size_t pos = 12;
  for (int chunk = 0; chunk < 64 && pos + 8 <= b.size(); ++chunk) {  // fmt comes first in practice
    const uint32_t size = LittleEndian32(b.data() + pos + 4);
    if (std::memcmp(b.data() + pos, "fmt ", 4) == 0) {
      if (size < 8 || pos + 16 > b.size()) return std::nullopt;
      return int64_t{LittleEndian32(b.data() + pos + 12)};  // after format tag (2) and channels (2)
    }
    pos += 8 + static_cast<size_t>(size) + (size & 1);  // chunks are padded to even sizes
  }
  return std::nullopt;
}

absl::Status CheckSampleRate(int64_t rate, const AudioLimits& limits) {
  if (rate < limits.min_sample_rate || rate > limits.max_sample_rate) {
    return Invalid(absl::StrCat("sample rate ", rate, " Hz is outside [", limits.min_sample_rate, ", ",
                                limits.max_sample_rate, "] Hz"));
  }
  return absl::OkStatus();
}

// libsamplerate's streaming interface (SRC_SINC_BEST_QUALITY, mono): blocks
// in, the converted samples appended to `out`; the last block flushes.
class Resampler {
 public:
  static absl::StatusOr<std::unique_ptr<Resampler>> Create(double ratio) {
    int err = 0;
    SRC_STATE* state = src_new(SRC_SINC_BEST_QUALITY, 1, &err);
    if (!state) return absl::InternalError(absl::StrCat("audio: cannot start the resampler: ", src_strerror(err)));
    return std::unique_ptr<Resampler>(new Resampler(state, ratio));
  }
  ~Resampler() { src_delete(state_); }

  absl::Status Push(absl::Span<const float> in, bool last, std::vector<float>& out) {
    SRC_DATA data{};
    data.data_in = in.data();
    data.input_frames = static_cast<long>(in.size());
    data.src_ratio = ratio_;
    data.end_of_input = last ? 1 : 0;
    for (;;) {
      const size_t old_size = out.size();
      out.resize(old_size + static_cast<size_t>(data.input_frames * ratio_) + 64);
      data.data_out = out.data() + old_size;
      data.output_frames = static_cast<long>(out.size() - old_size);
      if (int err = src_process(state_, &data); err != 0) {
        return absl::InternalError(absl::StrCat("audio: resampling failed: ", src_strerror(err)));
      }
      out.resize(old_size + static_cast<size_t>(data.output_frames_gen));
      data.data_in += data.input_frames_used;
      data.input_frames -= data.input_frames_used;
      // Done with this block once it is consumed; the last one also until
      // the converter has nothing more to give.
      if (data.input_frames == 0 && (!last || data.output_frames_gen == 0)) return absl::OkStatus();
    }
  }

 private:
  Resampler(SRC_STATE* state, double ratio) : state_(state), ratio_(ratio) {}
  SRC_STATE* state_;
  double ratio_;
};

}  // namespace

absl::StatusOr<Waveform> DecodeAudio(absl::Span<const uint8_t> bytes, int target_rate, const AudioLimits& limits) {
  if (bytes.empty()) return Invalid("the audio data is empty");
  if (const auto rate = WavHeaderSampleRate(bytes)) {
    if (absl::Status s = CheckSampleRate(*rate, limits); !s.ok()) return s;
  }
  MemoryFile file{bytes, 0};
  SF_VIRTUAL_IO io{VioLength, VioSeek, VioRead, VioWrite, VioTell};
  SF_INFO info{};
  SNDFILE* sf = sf_open_virtual(&io, SFM_READ, &info, &file);
  if (!sf) {
    return Invalid(absl::StrCat("not a supported audio file (", sf_strerror(nullptr),
                                "); send WAV, FLAC, OGG/Vorbis, Opus or MP3"));
  }
  struct Closer {
    SNDFILE* sf;
    ~Closer() { sf_close(sf); }
  } closer{sf};

  Waveform w;
  w.source_rate = info.samplerate;
  w.source_channels = info.channels;
  w.source_format = FormatName(info.format);
  if (absl::Status s = CheckSampleRate(info.samplerate, limits); !s.ok()) return s;
  if (info.channels < 1 || info.channels > limits.max_channels) {
    return Invalid(absl::StrCat(info.channels, " channels; at most ", limits.max_channels, " are accepted"));
  }
  int64_t declared = 0, present = 0;
  if (DataChunkTruncated(sf, &declared, &present)) {
    return Invalid(absl::StrCat("the file is truncated: its header announces ", declared, " bytes of audio, it holds ",
                                present));
  }
  if (info.frames <= 0) return Invalid("the recording has no samples");
  const double seconds = static_cast<double>(info.frames) / info.samplerate;
  if (seconds > limits.max_seconds) {
    return Invalid(absl::StrCat("the recording lasts ", seconds, " s; the limit is ", limits.max_seconds, " s"));
  }

  // Blocks, never the whole file at once: memory follows the samples the
  // file really holds, not the frame count its header claims (a 46-byte FLAC
  // header can claim an hour of 8 channels: 5 GB to allocate up front), and
  // the resampler streams, so only the 16 kHz output is kept.
  std::unique_ptr<Resampler> resampler;
  if (info.samplerate != target_rate) {
    ASSIGN_OR_RETURN(resampler, Resampler::Create(static_cast<double>(target_rate) / info.samplerate));
  }
  constexpr sf_count_t kBlockFrames = 1 << 15;
  std::vector<float> interleaved(static_cast<size_t>(kBlockFrames) * info.channels);
  std::vector<float> mono(static_cast<size_t>(kBlockFrames));
  sf_count_t got = 0;
  while (got < info.frames) {
    const sf_count_t n = sf_readf_float(sf, interleaved.data(), std::min(kBlockFrames, info.frames - got));
    if (n <= 0) break;
    for (sf_count_t i = 0; i < n; ++i) {
      float sum = 0.0f;
      for (int c = 0; c < info.channels; ++c) sum += interleaved[i * info.channels + c];
      mono[i] = info.channels == 1 ? sum : sum / static_cast<float>(info.channels);
    }
    got += n;
    const absl::Span<const float> block(mono.data(), static_cast<size_t>(n));
    if (resampler) {
      RETURN_IF_ERROR(resampler->Push(block, /*last=*/got >= info.frames, w.samples));
    } else {
      w.samples.insert(w.samples.end(), block.begin(), block.end());
    }
  }
  if (got < info.frames) {
    return Invalid(absl::StrCat("the file is truncated: its header announces ", info.frames, " frames, it holds ",
                                got));
  }
  w.sample_rate = target_rate;
  if (w.samples.empty()) return Invalid("the recording is too short to resample");
  return w;
}

}  // namespace gemma3n
