#include "text_worker/inspect/media_flags.h"

#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/checkpoint.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n::inspect {

absl::StatusOr<std::optional<AudioSpans>> AudioFromArgs(const Args& args, const std::string& model_dir,
                                                        const ModelConfig& config) {
  const std::vector<std::string> files = args.GetAll("audio");
  if (files.empty()) return std::nullopt;
  if (!config.has_audio) return absl::InvalidArgumentError("this checkpoint has no audio_config: --audio cannot apply");
  ASSIGN_OR_RETURN(auto encoder, AudioEncoder::Load(model_dir));
  LogMelConfig mel;
  if (auto pre = ReadJsonFile(model_dir + "/preprocessor_config.json"); pre.ok()) {
    ASSIGN_OR_RETURN(mel, LogMelConfigFromJson(*pre));
  }
  const LogMelExtractor extractor(mel);
  const AudioPipeline pipeline(*encoder, extractor, config.audio_soft_tokens_per_image);
  AudioSpans all;
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read audio file ", file));
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto spans = pipeline.Encode(bytes);
    if (!spans.ok()) return absl::Status(spans.status().code(), absl::StrCat(file, ": ", spans.status().message()));
    spdlog::info("{}: {:.2f} s of audio -> {} span(s) of {} soft tokens", file, spans->seconds, spans->spans,
                 spans->rows_per_span);
    all.spans += spans->spans;
    all.rows_per_span = spans->rows_per_span;
    all.hidden = spans->hidden;
    all.seconds += spans->seconds;
    all.rows.insert(all.rows.end(), spans->rows.begin(), spans->rows.end());
    all.real_tokens.insert(all.real_tokens.end(), spans->real_tokens.begin(), spans->real_tokens.end());
  }
  return all;
}

}  // namespace gemma3n::inspect
