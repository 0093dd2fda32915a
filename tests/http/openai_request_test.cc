// JSON -> gemma3n.v1 protos: every field we honour lands where it should,
// every field we cannot honour is a 400 naming it, wrong JSON types are 400.
#include "gateway/http/openai_request.h"

#include "gateway/http/openai_errors.h"
#include "gtest/gtest.h"

namespace gemma3n::http {
namespace {

using nlohmann::json;

json Chat(json extra = json::object()) {
  json body = {{"model", "m"}, {"messages", json::array({{{"role", "user"}, {"content", "Hi"}}})}};
  body.update(extra);
  return body;
}

// The error object's param for a refused body, "" when the body is accepted.
std::string RefusedParam(const json& body) {
  absl::StatusOr<GenerationCall> call = ParseChatCompletion(body);
  if (call.ok()) return "";
  const HttpError e = ToHttpError(call.status());
  EXPECT_EQ(e.status, 400) << call.status();
  return e.body["error"]["param"].is_string() ? e.body["error"]["param"].get<std::string>() : "(null)";
}

TEST(OpenAiRequest, SettingsMapToTheGenerationConfig) {
  absl::StatusOr<GenerationCall> call = ParseChatCompletion(Chat({{"temperature", 0.5},
                                                                   {"top_p", 0.9},
                                                                   {"top_k", 40},
                                                                   {"min_p", 0.05},
                                                                   {"repetition_penalty", 1.1},
                                                                   {"seed", 7},
                                                                   {"max_tokens", 12},
                                                                   {"stop", json::array({"a", "b"})},
                                                                   {"stream", true},
                                                                   {"stream_options", {{"include_usage", true}}},
                                                                   {"ignore_eos", true},
                                                                   {"n", 1},
                                                                   {"user", "u"},
                                                                   {"metadata", {{"k", "v"}}},
                                                                   {"store", false},
                                                                   {"presence_penalty", 0},
                                                                   {"logprobs", false},
                                                                   {"response_format", {{"type", "text"}}}}));
  ASSERT_TRUE(call.ok()) << call.status();
  const v1::GenerationConfig& c = call->request.config();
  EXPECT_FLOAT_EQ(c.temperature(), 0.5f);
  EXPECT_FLOAT_EQ(c.top_p(), 0.9f);
  EXPECT_EQ(c.top_k(), 40);
  EXPECT_FLOAT_EQ(c.min_p(), 0.05f);
  EXPECT_FLOAT_EQ(c.repetition_penalty(), 1.1f);
  EXPECT_EQ(c.seed(), 7u);
  EXPECT_EQ(c.max_new_tokens(), 12);
  ASSERT_EQ(c.stop_size(), 2);
  EXPECT_EQ(c.stop(1), "b");
  EXPECT_TRUE(c.ignore_eos());
  EXPECT_TRUE(call->stream);
  EXPECT_TRUE(call->include_usage);
  EXPECT_EQ(call->model, "m");
}

TEST(OpenAiRequest, UnsetSettingsStayUnset) {
  absl::StatusOr<GenerationCall> call = ParseChatCompletion(Chat({{"temperature", nullptr}}));
  ASSERT_TRUE(call.ok()) << call.status();
  const v1::GenerationConfig& c = call->request.config();
  EXPECT_FALSE(c.has_temperature());
  EXPECT_FALSE(c.has_max_new_tokens());
  EXPECT_FALSE(c.has_seed());
  EXPECT_FALSE(call->stream);
}

TEST(OpenAiRequest, MaxCompletionTokensWinsAndStopMayBeAString) {
  absl::StatusOr<GenerationCall> call =
      ParseChatCompletion(Chat({{"max_tokens", 5}, {"max_completion_tokens", 9}, {"stop", "END"}}));
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->request.config().max_new_tokens(), 9);
  ASSERT_EQ(call->request.config().stop_size(), 1);
  EXPECT_EQ(call->request.config().stop(0), "END");
}

TEST(OpenAiRequest, RolesMapToTheTemplateRoles) {
  json messages = json::array({{{"role", "developer"}, {"content", "Be brief."}},
                               {{"role", "system"}, {"content", "S"}},
                               {{"role", "user"}, {"content", "Q"}},
                               {{"role", "assistant"}, {"content", "A"}}});
  absl::StatusOr<GenerationCall> call = ParseChatCompletion({{"messages", messages}});
  ASSERT_TRUE(call.ok()) << call.status();
  ASSERT_EQ(call->request.messages_size(), 4);
  EXPECT_EQ(call->request.messages(0).role(), "system");
  EXPECT_EQ(call->request.messages(1).role(), "system");
  EXPECT_EQ(call->request.messages(2).role(), "user");
  EXPECT_EQ(call->request.messages(3).role(), "model");
  EXPECT_EQ(call->request.messages(3).parts(0).text(), "A");
  EXPECT_EQ(call->model, "");  // missing: the default model
}

TEST(OpenAiRequest, ContentPartsBecomeTextImageAndAudioParts) {
  json content = json::array({{{"type", "text"}, {"text", "What is this?"}},
                              {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,iVBORw=="}}}},
                              {{"type", "input_audio"}, {"input_audio", {{"data", "UklGRg=="}, {"format", "wav"}}}}});
  absl::StatusOr<GenerationCall> call =
      ParseChatCompletion({{"messages", json::array({{{"role", "user"}, {"content", content}}})}});
  ASSERT_TRUE(call.ok()) << call.status();
  const v1::Message& m = call->request.messages(0);
  ASSERT_EQ(m.parts_size(), 3);
  EXPECT_EQ(m.parts(0).text(), "What is this?");
  EXPECT_EQ(m.parts(1).image().data(), std::string("\x89PNG", 4));
  EXPECT_EQ(m.parts(1).image().mime_type(), "image/png");
  EXPECT_EQ(m.parts(2).audio().data(), "RIFF");
  EXPECT_EQ(m.parts(2).audio().mime_type(), "audio/wav");
}

TEST(OpenAiRequest, AudioFormatsAreThoseTheDecoderReads) {
  EXPECT_EQ(*AudioFormatMime("mp3"), "audio/mpeg");
  EXPECT_EQ(*AudioFormatMime("flac"), "audio/flac");
  EXPECT_EQ(*AudioFormatMime("ogg"), "audio/ogg");
  EXPECT_FALSE(AudioFormatMime("aac").ok());
  json content = json::array({{{"type", "input_audio"}, {"input_audio", {{"data", "UklGRg=="}, {"format", "m4a"}}}}});
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "user"}, {"content", content}}})}}),
            "messages[0].content[0].input_audio.format");
}

TEST(OpenAiRequest, ImageUrlsMustBeDataUris) {
  EXPECT_FALSE(ParseImageUrl("https://example.com/cat.png", "p").ok());
  EXPECT_NE(ParseImageUrl("http://x/y.png", "p").status().message().find("data URI"), std::string::npos);
  EXPECT_FALSE(ParseImageUrl("data:image/png,notbase64", "p").ok());
  EXPECT_FALSE(ParseImageUrl("data:text/plain;base64,aGk=", "p").ok());
  EXPECT_FALSE(ParseImageUrl("data:image/png;base64,***", "p").ok());
  absl::StatusOr<DataUri> ok = ParseImageUrl("data:image/jpeg;base64,aGk=", "p");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ(ok->bytes, "hi");
  EXPECT_EQ(ok->mime, "image/jpeg");
}

TEST(OpenAiRequest, FieldsWeCannotHonourAreRefusedByName) {
  EXPECT_EQ(RefusedParam(Chat({{"n", 2}})), "n");
  EXPECT_EQ(RefusedParam(Chat({{"tools", json::array({{{"type", "function"}}})}})), "tools");
  EXPECT_EQ(RefusedParam(Chat({{"tool_choice", "auto"}})), "tool_choice");
  EXPECT_EQ(RefusedParam(Chat({{"functions", json::array({{{"name", "f"}}})}})), "functions");
  EXPECT_EQ(RefusedParam(Chat({{"logprobs", true}})), "logprobs");
  EXPECT_EQ(RefusedParam(Chat({{"top_logprobs", 3}})), "top_logprobs");
  EXPECT_EQ(RefusedParam(Chat({{"response_format", {{"type", "json_schema"}}}})), "response_format");
  EXPECT_EQ(RefusedParam(Chat({{"logit_bias", {{"50256", -100}}}})), "logit_bias");
  EXPECT_EQ(RefusedParam(Chat({{"presence_penalty", 0.5}})), "presence_penalty");
  EXPECT_EQ(RefusedParam(Chat({{"frequency_penalty", -1}})), "frequency_penalty");
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "tool"}, {"content", "42"}}})}}), "messages[0].role");
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "assistant"},
                                                     {"content", nullptr},
                                                     {"tool_calls", json::array()}}})}}),
            "messages[0].tool_calls");
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "robot"}, {"content", "x"}}})}}), "messages[0].role");
  json file_part = json::array({{{"type", "file"}, {"file", json::object()}}});
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "user"}, {"content", file_part}}})}}),
            "messages[0].content[0].type");
  json url_part = json::array({{{"type", "image_url"}, {"image_url", {{"url", "https://x/y.png"}}}}});
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "user"}, {"content", url_part}}})}}),
            "messages[0].content[0].image_url.url");
}

TEST(OpenAiRequest, WrongJsonTypesAreRefusedByName) {
  EXPECT_EQ(RefusedParam(Chat({{"temperature", "hot"}})), "temperature");
  EXPECT_EQ(RefusedParam(Chat({{"max_tokens", 1.5}})), "max_tokens");
  EXPECT_EQ(RefusedParam(Chat({{"max_tokens", 1e12}})), "max_tokens");
  EXPECT_EQ(RefusedParam(Chat({{"top_k", "40"}})), "top_k");
  EXPECT_EQ(RefusedParam(Chat({{"seed", -1}})), "seed");
  EXPECT_EQ(RefusedParam(Chat({{"stream", "yes"}})), "stream");
  EXPECT_EQ(RefusedParam(Chat({{"stop", 5}})), "stop");
  EXPECT_EQ(RefusedParam(Chat({{"stop", json::array({"a", 1})}})), "stop[1]");
  EXPECT_EQ(RefusedParam(Chat({{"model", 3}})), "model");
  EXPECT_EQ(RefusedParam({{"messages", "Hi"}}), "messages");
  EXPECT_EQ(RefusedParam({{"messages", json::array()}}), "messages");
  EXPECT_EQ(RefusedParam({{"messages", json::array({{{"role", "user"}, {"content", 5}}})}}), "messages[0].content");
  EXPECT_EQ(RefusedParam(json::array()), "(null)");  // not an object: no field to name
  EXPECT_EQ(RefusedParam(Chat({{"max_tokens", 8.0}})), "");  // integral floats are integers
}

// Integers too large for int64 (nlohmann keeps a literal of 20+ digits as a
// float) are out of range, not cast (undefined; tests/fuzz/corpus/http_request).
TEST(OpenAiRequest, IntegersBeyondInt64AreOutOfRange) {
  for (const json& big : {json(9223372036854775808.0), json(1e300), json(-1e300)}) {
    const absl::StatusOr<GenerationCall> call = ParseChatCompletion(Chat({{"seed", big}}));
    ASSERT_FALSE(call.ok());
    EXPECT_NE(call.status().message().find("must be in"), std::string::npos) << call.status();
  }
}

TEST(OpenAiRequest, CompletionsTakeOneRawPrompt) {
  absl::StatusOr<GenerationCall> call = ParseCompletion({{"prompt", "Once"}, {"max_tokens", 3}, {"logprobs", nullptr}});
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->request.prompt(), "Once");
  EXPECT_EQ(call->request.messages_size(), 0);
  EXPECT_EQ(call->request.config().max_new_tokens(), 3);
  EXPECT_EQ(ParseCompletion({{"prompt", json::array({"One"})}})->request.prompt(), "One");
  for (const json& bad : {json{{"prompt", json::array({"a", "b"})}}, json{{"prompt", 3}}, json{{"prompt", ""}},
                          json{{"prompt", "x"}, {"echo", true}}, json{{"prompt", "x"}, {"suffix", "y"}},
                          json{{"prompt", "x"}, {"best_of", 2}}, json{{"prompt", "x"}, {"logprobs", 2}}}) {
    absl::StatusOr<GenerationCall> refused = ParseCompletion(bad);
    ASSERT_FALSE(refused.ok()) << bad.dump();
    EXPECT_EQ(ToHttpError(refused.status()).status, 400);
  }
}

}  // namespace
}  // namespace gemma3n::http
