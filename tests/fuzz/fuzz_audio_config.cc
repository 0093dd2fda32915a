// preprocessor_config.json bytes -> ParseJson -> LogMelConfigFromJson, as the
// audio worker reads a model directory's file, then the extractor that config
// builds (window, mel filter bank) on one second of a fixed tone: the sizes
// come from the file, so they decide what is allocated.
#include <cmath>
#include <vector>

#include "audio_worker/features/log_mel.h"
#include "common/checkpoint/checkpoint.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const auto json =
      ParseJson("preprocessor_config.json", absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!json.ok()) return 0;
  const auto config = LogMelConfigFromJson(*json);
  if (!config.ok()) return 0;
  const LogMelExtractor features(*config);
  std::vector<float> tone(16000);
  for (size_t i = 0; i < tone.size(); ++i) tone[i] = 0.5f * std::sin(0.05f * static_cast<float>(i));
  (void)features.Extract(tone);
  return 0;
}
