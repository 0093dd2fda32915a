// Audio bytes -> DecodeAudio (libsndfile from memory, down-mix, libsamplerate
// to 16 kHz) with the audio worker's limits (AudioLimits{}), then the log-mel
// features of the first 30 s window (the tiny model's preprocessor_config.json),
// as AudioPipeline::Encode does before the encoder.
#include <memory>

#include "audio_worker/decode/audio_decoder.h"
#include "audio_worker/features/log_mel.h"
#include "common/checkpoint/checkpoint.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

const gemma3n::LogMelExtractor* features = nullptr;

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto json = gemma3n::ReadJsonFile(GEMMA3N_TEST_DATA_DIR "/gemma3n-tiny/preprocessor_config.json");
  if (!json.ok()) gemma3n::fuzz::Violated("cannot read the tiny preprocessor_config.json");
  auto config = gemma3n::LogMelConfigFromJson(*json);
  if (!config.ok()) gemma3n::fuzz::Violated("the tiny preprocessor_config.json does not parse");
  features = new gemma3n::LogMelExtractor(*config);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const int rate = features->config().sampling_rate;
  const auto wave = DecodeAudio(absl::MakeConstSpan(data, size), rate);
  if (!wave.ok()) return 0;
  if (wave->samples.empty() || wave->sample_rate != rate) fuzz::Violated("decoded audio is empty or not resampled");
  const size_t window = std::min<size_t>(wave->samples.size(), features->config().max_samples);
  (void)features->Extract(absl::MakeConstSpan(wave->samples.data(), window));
  return 0;
}
