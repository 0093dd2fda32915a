// The transcription form -> TranscribeRequest, the reply formats, and the
// instruction each window is sent with.
#include "gateway/http/openai_audio.h"

#include "gateway/http/openai_errors.h"
#include "gateway/transcription_prompt.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gemma3n::http {
namespace {

Form Upload() { return {{"file", {"RIFF....", "a.wav", "audio/wav"}}, {"model", {"g", "", ""}}}; }

TEST(OpenAiAudio, FormBecomesATranscribeRequest) {
  Form form = Upload();
  form["language"] = {"de", "", ""};
  form["prompt"] = {"Gemma, MatFormer", "", ""};
  form["temperature"] = {"0.2", "", ""};
  form["response_format"] = {"verbose_json", "", ""};
  absl::StatusOr<TranscriptionCall> call = ParseTranscriptionForm(form, false);
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->request.audio().data(), "RIFF....");
  EXPECT_EQ(call->request.audio().mime_type(), "audio/wav");
  EXPECT_EQ(call->request.task(), v1::TRANSCRIBE_TASK_TRANSCRIBE);
  EXPECT_EQ(call->request.language(), "de");
  EXPECT_EQ(call->request.prompt(), "Gemma, MatFormer");
  EXPECT_FLOAT_EQ(call->request.config().temperature(), 0.2f);
  EXPECT_EQ(call->format, TranscriptFormat::kVerboseJson);
  EXPECT_EQ(call->model, "g");
  EXPECT_EQ(ParseTranscriptionForm(Upload(), true)->request.task(), v1::TRANSCRIBE_TASK_TRANSLATE);
  // An application/octet-stream upload: the decoder sniffs the container.
  Form octet = Upload();
  octet["file"].content_type = "application/octet-stream";
  EXPECT_EQ(ParseTranscriptionForm(octet, false)->request.audio().mime_type(), "");
}

TEST(OpenAiAudio, RefusalsNameTheField) {
  auto param = [](const Form& form) {
    absl::StatusOr<TranscriptionCall> call = ParseTranscriptionForm(form, false);
    if (call.ok()) return std::string();
    const HttpError e = ToHttpError(call.status());
    EXPECT_EQ(e.status, 400);
    return e.body["error"]["param"].get<std::string>();
  };
  EXPECT_EQ(param({{"model", {"g", "", ""}}}), "file");
  Form f = Upload();
  f["response_format"] = {"srt", "", ""};
  EXPECT_EQ(param(f), "response_format");
  f = Upload();
  f["temperature"] = {"warm", "", ""};
  EXPECT_EQ(param(f), "temperature");
  f = Upload();
  f["stream"] = {"true", "", ""};
  EXPECT_EQ(param(f), "stream");
}

v1::TranscribeResponse TwoWindows() {
  v1::TranscribeResponse r;
  r.set_text("one two");
  r.set_duration_seconds(37.3);
  r.set_language("en");
  v1::TranscriptSegment* a = r.add_segments();
  a->set_start_seconds(0);
  a->set_end_seconds(30);
  a->set_text("one");
  v1::TranscriptSegment* b = r.add_segments();
  b->set_start_seconds(30);
  b->set_end_seconds(37.3);
  b->set_text("two");
  return r;
}

TEST(OpenAiAudio, ReplyFormats) {
  const RenderedTranscript text = RenderTranscript(TwoWindows(), TranscriptFormat::kText, false);
  EXPECT_EQ(text.body, "one two\n");
  EXPECT_NE(text.content_type.find("text/plain"), std::string::npos);
  const nlohmann::json json =
      nlohmann::json::parse(RenderTranscript(TwoWindows(), TranscriptFormat::kJson, false).body);
  EXPECT_EQ(json["text"], "one two");
  EXPECT_FALSE(json.contains("segments"));
  const nlohmann::json verbose =
      nlohmann::json::parse(RenderTranscript(TwoWindows(), TranscriptFormat::kVerboseJson, false).body);
  EXPECT_EQ(verbose["task"], "transcribe");
  EXPECT_EQ(verbose["language"], "en");
  EXPECT_DOUBLE_EQ(verbose["duration"].get<double>(), 37.3);
  ASSERT_EQ(verbose["segments"].size(), 2u);
  EXPECT_DOUBLE_EQ(verbose["segments"][1]["start"].get<double>(), 30);
  EXPECT_DOUBLE_EQ(verbose["segments"][1]["end"].get<double>(), 37.3);
  EXPECT_EQ(verbose["segments"][1]["text"], "two");
  EXPECT_EQ(verbose["segments"][1]["id"], 1);
  const nlohmann::json translated =
      nlohmann::json::parse(RenderTranscript(TwoWindows(), TranscriptFormat::kVerboseJson, true).body);
  EXPECT_EQ(translated["task"], "translate");
  EXPECT_EQ(translated["language"], "english");
}

TEST(TranscriptionPrompt, Wording) {
  EXPECT_EQ(TranscriptionInstruction(v1::TRANSCRIBE_TASK_TRANSCRIBE, "de", ""),
            "Transcribe the following speech segment in German into German text:");
  EXPECT_EQ(TranscriptionInstruction(v1::TRANSCRIBE_TASK_TRANSCRIBE, "", ""),
            "Transcribe the following speech segment into text:");
  const std::string translate = TranscriptionInstruction(v1::TRANSCRIBE_TASK_TRANSLATE, "fr", "Paris");
  EXPECT_NE(translate.find("in French, then translate it into English"), std::string::npos);
  EXPECT_NE(translate.find("Paris"), std::string::npos);
  EXPECT_EQ(LanguageName("EN"), "English");
  EXPECT_EQ(LanguageName("Klingon"), "Klingon");
}

}  // namespace
}  // namespace gemma3n::http
