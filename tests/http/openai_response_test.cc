// gemma3n.v1 replies -> OpenAI objects and chunks, SSE framing, the one
// status -> HTTP mapping, model ids.
#include "gateway/http/openai_response.h"

#include "gateway/http/model_ids.h"
#include "gateway/http/openai_errors.h"
#include "gateway/http/sse.h"
#include "gtest/gtest.h"

namespace gemma3n::http {
namespace {

using nlohmann::json;

ReplyMeta Meta(Endpoint e) { return {e, "chatcmpl-1", "gemma-3n-E4B-it", 1700000000}; }

v1::Usage Usage(int prompt, int generated, int cached = 0) {
  v1::Usage u;
  u.set_prompt_tokens(prompt);
  u.set_generated_tokens(generated);
  u.set_cached_prompt_tokens(cached);
  return u;
}

TEST(OpenAiResponse, ChatCompletionObject) {
  const json o = CompletionObject(Meta(Endpoint::kChat), "Hello", v1::FINISH_REASON_STOP, Usage(10, 2, 7));
  EXPECT_EQ(o["object"], "chat.completion");
  EXPECT_EQ(o["id"], "chatcmpl-1");
  EXPECT_EQ(o["model"], "gemma-3n-E4B-it");
  EXPECT_EQ(o["created"], 1700000000);
  EXPECT_EQ(o["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(o["choices"][0]["message"]["content"], "Hello");
  EXPECT_EQ(o["choices"][0]["finish_reason"], "stop");
  EXPECT_EQ(o["usage"], json({{"prompt_tokens", 10},
                              {"completion_tokens", 2},
                              {"total_tokens", 12},
                              {"prompt_tokens_details", {{"cached_tokens", 7}}}}));
}

TEST(OpenAiResponse, TextCompletionObject) {
  const json o = CompletionObject(Meta(Endpoint::kCompletion), "upon", v1::FINISH_REASON_MAX_TOKENS, Usage(3, 1));
  EXPECT_EQ(o["object"], "text_completion");
  EXPECT_EQ(o["choices"][0]["text"], "upon");
  EXPECT_EQ(o["choices"][0]["finish_reason"], "length");
  EXPECT_FALSE(o["choices"][0].contains("message"));
}

TEST(OpenAiResponse, FinishReasons) {
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_STOP), "stop");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_STOP_STRING), "stop");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_MAX_TOKENS), "length");
  EXPECT_EQ(FinishReasonJson(v1::FINISH_REASON_CONTEXT_FULL), "length");
  EXPECT_TRUE(FinishReasonJson(v1::FINISH_REASON_UNSPECIFIED).is_null());
}

TEST(OpenAiResponse, ChatChunks) {
  const ReplyMeta m = Meta(Endpoint::kChat);
  const json role = RoleChunk(m);
  EXPECT_EQ(role["object"], "chat.completion.chunk");
  EXPECT_EQ(role["choices"][0]["delta"]["role"], "assistant");
  EXPECT_TRUE(role["choices"][0]["finish_reason"].is_null());
  EXPECT_EQ(TextChunk(m, "Hi")["choices"][0]["delta"], json({{"content", "Hi"}}));
  const json fin = FinishChunk(m, v1::FINISH_REASON_MAX_TOKENS);
  EXPECT_EQ(fin["choices"][0]["delta"], json::object());
  EXPECT_EQ(fin["choices"][0]["finish_reason"], "length");
  const json usage = UsageChunk(m, Usage(4, 5));
  EXPECT_EQ(usage["choices"], json::array());
  EXPECT_EQ(usage["usage"]["total_tokens"], 9);
}

TEST(OpenAiResponse, CompletionChunksCarryText) {
  const ReplyMeta m = Meta(Endpoint::kCompletion);
  const json c = TextChunk(m, "x");
  EXPECT_EQ(c["object"], "text_completion");
  EXPECT_EQ(c["choices"][0]["text"], "x");
  EXPECT_EQ(FinishChunk(m, v1::FINISH_REASON_STOP)["choices"][0]["finish_reason"], "stop");
}

TEST(OpenAiResponse, ModelList) {
  const json list = ModelList(ModelIds("gemma-3n-E4B-it", {"E2B", "E2.54B-layer"}), 5);
  EXPECT_EQ(list["object"], "list");
  ASSERT_EQ(list["data"].size(), 3u);
  EXPECT_EQ(list["data"][0]["id"], "gemma-3n-E4B-it");
  EXPECT_EQ(list["data"][2]["id"], "gemma-3n-E4B-it:E2.54B-layer");
  EXPECT_EQ(list["data"][1]["object"], "model");
  EXPECT_EQ(list["data"][1]["created"], 5);
  EXPECT_TRUE(list["data"][1]["owned_by"].is_string());
}

TEST(Sse, Framing) {
  EXPECT_EQ(SseEvent({{"a", 1}}), "data: {\"a\":1}\n\n");
  EXPECT_EQ(SseDone(), "data: [DONE]\n\n");
  // Bytes that are not UTF-8 are replaced, not thrown on.
  EXPECT_EQ(SseEvent({{"t", std::string("\xff")}}), "data: {\"t\":\"\xEF\xBF\xBD\"}\n\n");
}

TEST(OpenAiErrors, OneMappingFromStatusToHttp) {
  EXPECT_EQ(ToHttpError(absl::InvalidArgumentError("x")).status, 400);
  EXPECT_EQ(ToHttpError(absl::OutOfRangeError("x")).status, 400);
  EXPECT_EQ(ToHttpError(absl::NotFoundError("x")).status, 404);
  const HttpError busy = ToHttpError(absl::ResourceExhaustedError("queue full"));
  EXPECT_EQ(busy.status, 429);
  EXPECT_EQ(busy.body["error"]["code"], "queue_full");
  EXPECT_EQ(busy.body["error"]["message"], "queue full");
  EXPECT_EQ(ToHttpError(absl::UnavailableError("no text worker")).status, 503);
  EXPECT_EQ(ToHttpError(absl::DeadlineExceededError("x")).status, 504);
  EXPECT_EQ(ToHttpError(absl::CancelledError("x")).status, 499);
  EXPECT_EQ(ToHttpError(absl::InternalError("x")).status, 500);
  EXPECT_EQ(ToHttpError(absl::UnknownError("x")).status, 500);
}

TEST(OpenAiErrors, ErrorObjectShape) {
  const HttpError e = ToHttpError(FieldError("messages[0].role", "bad role"));
  EXPECT_EQ(e.body, json({{"error",
                           {{"message", "bad role"},
                            {"type", "invalid_request_error"},
                            {"param", "messages[0].role"},
                            {"code", nullptr}}}}));
  const HttpError nf = ToHttpError(ModelNotFound("gpt-4", "gemma-3n-E4B-it"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(nf.body["error"]["code"], "model_not_found");
  EXPECT_EQ(nf.body["error"]["param"], "model");
  EXPECT_EQ(ProtocolError(413, "too big").body["error"]["code"], "request_too_large");
  EXPECT_EQ(ProtocolError(405, "no").body["error"]["code"], "method_not_allowed");
}

TEST(ModelIds, DefaultServedName) {
  EXPECT_EQ(DefaultServedModelName("/models/gemma-3n-E4B-it"), "gemma-3n-E4B-it");
  EXPECT_EQ(DefaultServedModelName("/models/gemma-3n-E4B-it/"), "gemma-3n-E4B-it");
  EXPECT_EQ(DefaultServedModelName(
                "/root/.cache/huggingface/hub/models--google--gemma-3n-E2B-it/snapshots/0123abcd"),
            "gemma-3n-E2B-it");
  EXPECT_EQ(DefaultServedModelName("tests/data/gemma3n-tiny"), "gemma3n-tiny");
}

TEST(ModelIds, ModelPicksTheProfile) {
  const std::vector<std::string> profiles = {"E2B", "E2.54B-layer"};
  EXPECT_EQ(*ProfileOfModel("", "g", profiles), "");
  EXPECT_EQ(*ProfileOfModel("g", "g", profiles), "");
  EXPECT_EQ(*ProfileOfModel("g:E2.54B-layer", "g", profiles), "E2.54B-layer");
  EXPECT_EQ(ProfileOfModel("g:E9B", "g", profiles).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ProfileOfModel("gpt-4o", "g", profiles).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ProfileOfModel("g:", "g", profiles).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gemma3n::http
