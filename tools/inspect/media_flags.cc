#include "tools/inspect/media_flags.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/checkpoint.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/model/soft_tokens.h"
#include "vision_worker/image_pipeline.h"

namespace gemma3n::inspect {

absl::StatusOr<std::optional<AudioSpans>> AudioFromArgs(const Args& args, const std::string& model_dir,
                                                        const ModelConfig& config, ThreadPool* pool) {
  const std::vector<std::string> files = args.GetAll("audio");
  if (files.empty()) return std::nullopt;
  if (!config.has_audio) return absl::InvalidArgumentError("this checkpoint has no audio_config: --audio cannot apply");
  ASSIGN_OR_RETURN(auto model, AudioModel::Load(model_dir, config.audio_soft_tokens_per_image, pool));
  const AudioPipeline& pipeline = model->pipeline();
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

absl::StatusOr<ImageRows> ImagesFromArgs(const Args& args, const std::string& model_dir, const ModelConfig& config,
                                         ThreadPool* pool) {
  ImageRows out;
  const std::vector<std::string> files = args.GetAll("image");
  if (files.empty()) return out;
  if (!config.has_vision) return absl::InvalidArgumentError("this checkpoint has no vision_config: --image cannot apply");
  ASSIGN_OR_RETURN(auto encoder, VisionEncoder::Load(model_dir, pool));
  ASSIGN_OR_RETURN(int64_t size, args.Int("image-size", encoder->spec().input_h));
  if (size < 32 || size > 4096) return absl::InvalidArgumentError("--image-size must be in [32, 4096]");
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot read image file ", file));
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    RgbImage image;
    auto e = EncodeImageBytes(*encoder, bytes, static_cast<int>(size), &image);
    if (!e.ok()) return absl::Status(e.status().code(), absl::StrCat(file, ": ", e.status().message()));
    spdlog::info("{}: {}x{} image -> {} soft tokens", file, image.width, image.height, e->features.pixels());
    out.rows_per_image = e->features.pixels();
    out.hidden = static_cast<int64_t>(e->soft_tokens.size()) / out.rows_per_image;
    out.rows.insert(out.rows.end(), e->soft_tokens.begin(), e->soft_tokens.end());
    ++out.images;
  }
  return out;
}

absl::StatusOr<SoftTokenRows> MediaSoftRows(absl::Span<const int> ids, const ModelConfig& config,
                                            const ImageRows& images, const std::optional<AudioSpans>& audio) {
  SoftTokenRows soft;
  if (images.images > 0) {
    RETURN_IF_ERROR(PlaceSoftTokens(ids, config.image_token_id, images.rows.data(),
                                    images.images * images.rows_per_image, images.hidden, soft));
  }
  if (audio) {
    RETURN_IF_ERROR(PlaceSoftTokens(ids, config.audio_token_id, audio->rows.data(),
                                    audio->spans * audio->rows_per_span, audio->hidden, soft));
  }
  // Forward wants no particular order, but keep positions ascending for chunked prefill.
  std::vector<size_t> order(soft.positions.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return soft.positions[a] < soft.positions[b]; });
  SoftTokenRows sorted;
  const int64_t h = soft.positions.empty() ? 0 : static_cast<int64_t>(soft.rows.size() / soft.positions.size());
  for (size_t i : order) {
    sorted.positions.push_back(soft.positions[i]);
    sorted.rows.insert(sorted.rows.end(), soft.rows.begin() + i * h, soft.rows.begin() + (i + 1) * h);
  }
  return sorted;
}

}  // namespace gemma3n::inspect
