// GemmaService::Transcribe: a recording is encoded once (the audio worker
// gives one span per 30 s window), then each window is its own generation
// with the transcription instruction, through the same path as Generate
// (settings, stop strings, the text workers, the streaming detokenizer).
// One generation per window keeps every prompt small whatever the length,
// and gives each piece of text the times of its window.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "gateway/gemma_service.h"
#include "gateway/transcription_prompt.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;

namespace {

// Keeps what Stream writes instead of sending it: the text, and the final
// message's finish reason and usage.
class CollectingWriter final : public grpc::ServerWriterInterface<pb::GenerateResponse> {
 public:
  void SendInitialMetadata() override {}
  bool Write(const pb::GenerateResponse& msg, grpc::WriteOptions) override {
    text_ += msg.text();
    if (msg.finish_reason() != pb::FINISH_REASON_UNSPECIFIED) {
      last_.set_finish_reason(msg.finish_reason());
      *last_.mutable_usage() = msg.usage();
    }
    return true;
  }
  pb::GenerateResponse Result() const {
    pb::GenerateResponse out = last_;
    out.set_text(text_);
    return out;
  }

 private:
  std::string text_;
  pb::GenerateResponse last_;
};

// The generation request every window shares: one user turn of the
// instruction and the recording (whose encoding is swapped per window).
pb::GenerateRequest WindowRequest(const pb::TranscribeRequest& request) {
  pb::GenerateRequest out;
  pb::Message* m = out.add_messages();
  m->set_role("user");
  m->add_parts()->set_text(TranscriptionInstruction(request.task(), request.language(), request.prompt()));
  *m->add_parts()->mutable_audio() = request.audio();
  *out.mutable_config() = request.config();
  return out;
}

}  // namespace

absl::StatusOr<pb::GenerateResponse> GemmaService::TranscribeWindow(grpc::ServerContext* context,
                                                                    Deadline deadline,
                                                                    const pb::GenerateRequest& request,
                                                                    const GenerationParams& params,
                                                                    const ipb::SoftTokens& span,
                                                                    const std::string& id) {
  EncodedMedia window;
  window.kind = EncodedMedia::Kind::kAudio;
  window.spans = {span};
  ASSIGN_OR_RETURN(BuiltPrompt prompt, BuildPrompt(request.messages(), "", {window}, tokenizer_, config_));
  RETURN_IF_ERROR(CheckPromptLength(static_cast<int64_t>(prompt.ids.size()), options_.context_limit));
  CollectingWriter collected;
  RETURN_IF_ERROR(Stream(context, deadline, request, params, prompt, &collected, id));
  return collected.Result();
}

grpc::Status GemmaService::Transcribe(grpc::ServerContext* context, const pb::TranscribeRequest* request,
                                      pb::TranscribeResponse* response) {
  const std::string id = absl::StrCat("req-", next_id_.fetch_add(1));
  const Deadline deadline = RequestDeadline(*context);
  const absl::StatusOr<GenerationParams> params = ValidateConfig(request->config());
  if (!params.ok()) return ToGrpcStatus(params.status());
  if (!config_.has_audio) return ToGrpcStatus(absl::InvalidArgumentError("this model has no audio tower"));
  if (request->audio().data().empty()) return ToGrpcStatus(absl::InvalidArgumentError("audio: no data"));
  absl::Status status = WaitForSlot(context, deadline);
  if (!status.ok()) {
    spdlog::warn("{} refused: {}", id, status.ToString());
    return ToGrpcStatus(status);
  }
  Admission::Slot slot(&admission_);
  const pb::GenerateRequest shared = WindowRequest(*request);
  absl::StatusOr<std::vector<MediaPart>> parts = CollectMedia(shared.messages());
  if (!parts.ok()) return ToGrpcStatus(parts.status());
  // A window's prompt is the instruction (with the caller's hint) and one
  // span: refused before encoding when that cannot fit.
  status = CheckFitsContext(shared.messages(), "", *parts, tokenizer_, config_, options_.context_limit);
  if (!status.ok()) return ToGrpcStatus(status);
  const EncoderPools pools = Encoders();
  absl::StatusOr<std::vector<EncodedMedia>> media = EncodeMedia(*parts, pools, *context, deadline);
  if (!media.ok()) {
    spdlog::info("{} rejected: {}", id, media.status().ToString());
    return ToGrpcStatus(media.status());
  }
  double at = 0;
  int prompt_tokens = 0, generated = 0;
  std::vector<std::string> texts;
  const std::vector<ipb::SoftTokens>& spans = media->front().spans;
  for (size_t w = 0; w < spans.size(); ++w) {
    absl::StatusOr<pb::GenerateResponse> window =
        TranscribeWindow(context, deadline, shared, *params, spans[w],
                         absl::StrCat(id, "/", w + 1, "-of-", spans.size()));
    if (!window.ok()) return ToGrpcStatus(window.status());
    pb::TranscriptSegment* seg = response->add_segments();
    seg->set_start_seconds(at);
    at += spans[w].seconds();
    seg->set_end_seconds(at);
    seg->set_text(std::string(absl::StripAsciiWhitespace(window->text())));
    seg->set_finish_reason(window->finish_reason());
    if (!seg->text().empty()) texts.push_back(seg->text());
    prompt_tokens += window->usage().prompt_tokens();
    generated += window->usage().generated_tokens();
  }
  response->set_text(absl::StrJoin(texts, " "));
  response->set_duration_seconds(at);
  response->set_language(request->language());
  response->mutable_usage()->set_prompt_tokens(prompt_tokens);
  response->mutable_usage()->set_generated_tokens(generated);
  spdlog::info("{} transcribed {:.1f} s in {} window(s): {} prompt tokens, {} generated", id, at, spans.size(),
               prompt_tokens, generated);
  return grpc::Status::OK;
}

}  // namespace gemma3n
