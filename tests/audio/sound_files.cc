#include "tests/audio/sound_files.h"

#include <sndfile.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "gtest/gtest.h"

namespace gemma3n::testing {

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::vector<uint8_t> WriteSoundFile(const std::vector<float>& interleaved, int rate, int channels, int format) {
  // Tests run in parallel processes: one file per process.
  const std::string path = ::testing::TempDir() + "/written." + std::to_string(getpid()) + ".snd";
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* sf = sf_open(path.c_str(), SFM_WRITE, &info);
  EXPECT_NE(sf, nullptr) << sf_strerror(nullptr);
  if (!sf) return {};
  const sf_count_t frames = static_cast<sf_count_t>(interleaved.size() / channels);
  const int sub = format & SF_FORMAT_SUBMASK;
  if (sub == SF_FORMAT_FLOAT || sub == SF_FORMAT_VORBIS) {
    double quality = 0.9;  // Vorbis: high quality
    sf_command(sf, SFC_SET_VBR_ENCODING_QUALITY, &quality, sizeof quality);
    sf_writef_float(sf, interleaved.data(), frames);
  } else {
    std::vector<short> pcm(interleaved.size());
    for (size_t i = 0; i < pcm.size(); ++i) pcm[i] = static_cast<short>(std::lrint(interleaved[i] * 32768.0f));
    sf_writef_short(sf, pcm.data(), frames);
  }
  sf_close(sf);
  return ReadFileBytes(path);
}

}  // namespace gemma3n::testing
