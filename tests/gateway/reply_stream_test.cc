// The gateway's reply stream over the real Gemma tokenizer: every token's
// text arrives once, a stop string split across tokens cuts the reply
// without showing any of it, held-back text is sent at the end, and the
// worker's ends map to the public finish reasons.
#include "gateway/reply_stream.h"

#include "common/serving/text_finish.h"
#include "gateway/public_finish.h"
#include "gtest/gtest.h"
#include "tests/gateway/stop_across_tokens.h"

namespace gemma3n {
namespace {

namespace ipb = gemma3n::internal::v1;
using testing::StopAcrossTokens;

ipb::TextGenerateResponse Message(std::vector<int> ids, ipb::TextFinish finish = ipb::TEXT_FINISH_NONE) {
  ipb::TextGenerateResponse m;
  m.mutable_token_ids()->Add(ids.begin(), ids.end());
  m.set_finish(finish);
  return m;
}

class ReplyStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto t = Tokenizer::Load(GEMMA3N_REAL_TOKENIZER);
    ASSERT_TRUE(t.ok()) << t.status();
    tokenizer_ = std::move(t).value().release();
  }
  // The reply of `ids`, one token per worker message, the last one ending
  // with `finish`; the text the client got, and the final message.
  static std::string Replay(ReplyStream& reply, const std::vector<int>& ids, ipb::TextFinish finish,
                            v1::GenerateResponse* final_message) {
    std::string text;
    v1::GenerateResponse out;
    for (size_t i = 0; i < ids.size(); ++i) {
      auto next = reply.Add(Message({ids[i]}, i + 1 == ids.size() ? finish : ipb::TEXT_FINISH_NONE));
      EXPECT_TRUE(next.ok()) << next.status();
      out = *next;
      if (reply.finish() != FinishReason::kNone) break;
      EXPECT_EQ(out.token_ids_size(), 1);
      text += out.text();
    }
    auto last = reply.Close(out, 7);
    EXPECT_TRUE(last.ok()) << last.status();
    *final_message = *last;
    return text + last->text();
  }
  static Tokenizer* tokenizer_;
};
Tokenizer* ReplyStreamTest::tokenizer_ = nullptr;

TEST_F(ReplyStreamTest, EveryTokensTextArrivesOnceWithTheUsage) {
  const std::vector<int> ids = tokenizer_->Encode("Hello world, how are you?", false);
  ReplyStream reply(*tokenizer_, {}, ReplyStream::Clock::now());
  v1::GenerateResponse last;
  EXPECT_EQ(Replay(reply, ids, ipb::TEXT_FINISH_MAX_TOKENS, &last), *tokenizer_->Decode(ids));
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_MAX_TOKENS);
  EXPECT_EQ(last.usage().prompt_tokens(), 7);
  EXPECT_EQ(last.usage().generated_tokens(), static_cast<int>(ids.size()));
  EXPECT_GT(last.usage().time_to_first_token_seconds(), 0.0);
}

TEST_F(ReplyStreamTest, AStopStringAcrossTwoTokensCutsTheReplyBeforeIt) {
  const std::vector<int> ids = tokenizer_->Encode("Hello world, how are you?", false);
  const std::optional<StopAcrossTokens> stop = StopAcrossTokens::Find(*tokenizer_, ids);
  ASSERT_TRUE(stop.has_value());
  ReplyStream reply(*tokenizer_, {stop->stop}, ReplyStream::Clock::now());
  v1::GenerateResponse last;
  EXPECT_EQ(Replay(reply, ids, ipb::TEXT_FINISH_MAX_TOKENS, &last), stop->text_before);
  EXPECT_EQ(reply.finish(), FinishReason::kStopString);
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_STOP_STRING);
  EXPECT_EQ(last.usage().generated_tokens(), stop->tokens_until_complete);
}

TEST_F(ReplyStreamTest, TextHeldForAStopThatNeverCompletesIsSentAtTheEnd) {
  const std::vector<int> ids = tokenizer_->Encode("Hello world, how are you?", false);
  const std::string text = *tokenizer_->Decode(ids);
  ReplyStream reply(*tokenizer_, {text.substr(text.size() - 2) + "!"}, ReplyStream::Clock::now());
  v1::GenerateResponse last;
  EXPECT_EQ(Replay(reply, ids, ipb::TEXT_FINISH_STOP_TOKEN, &last), text);
  EXPECT_EQ(last.finish_reason(), v1::FINISH_REASON_STOP);
}

TEST_F(ReplyStreamTest, GeneratedControlTokensAreLeftOutOfTheTextUnlessAsked) {
  const std::optional<int> turn = tokenizer_->PieceToId("<start_of_turn>");
  ASSERT_TRUE(turn.has_value());
  ASSERT_TRUE(tokenizer_->IsControlToken(*turn));
  std::vector<int> ids = tokenizer_->Encode("Hello", false);
  ids.push_back(*turn);
  for (int id : tokenizer_->Encode(" world", false)) ids.push_back(id);
  v1::GenerateResponse last;
  ReplyStream hidden(*tokenizer_, {}, ReplyStream::Clock::now());
  const std::string text = Replay(hidden, ids, ipb::TEXT_FINISH_MAX_TOKENS, &last);
  EXPECT_EQ(text.find("<start_of_turn>"), std::string::npos) << text;
  EXPECT_NE(text.find("Hello"), std::string::npos) << text;
  EXPECT_NE(text.find("world"), std::string::npos) << text;
  EXPECT_EQ(last.usage().generated_tokens(), static_cast<int>(ids.size()));  // still counted (and in token_ids)
  ReplyStream shown(*tokenizer_, {}, ReplyStream::Clock::now(), /*include_special_tokens=*/true);
  EXPECT_EQ(Replay(shown, ids, ipb::TEXT_FINISH_MAX_TOKENS, &last), *tokenizer_->Decode(ids));
  EXPECT_NE(tokenizer_->Decode(ids)->find("<start_of_turn>"), std::string::npos);
}

TEST(FinishReasonTest, TheWorkersEndsCrossTheWireAndMapToThePublicReasons) {
  for (FinishReason f : {FinishReason::kStopToken, FinishReason::kMaxTokens, FinishReason::kContextFull}) {
    EXPECT_NE(ToTextFinish(f), internal::v1::TEXT_FINISH_NONE);
    EXPECT_EQ(FromTextFinish(ToTextFinish(f)), f);
  }
  for (FinishReason f : {FinishReason::kNone, FinishReason::kStopString, FinishReason::kCancelled}) {
    EXPECT_EQ(ToTextFinish(f), internal::v1::TEXT_FINISH_NONE);
  }
  EXPECT_EQ(ToPublicFinish(FinishReason::kStopToken), v1::FINISH_REASON_STOP);
  EXPECT_EQ(ToPublicFinish(FinishReason::kStopString), v1::FINISH_REASON_STOP_STRING);
  EXPECT_EQ(ToPublicFinish(FinishReason::kMaxTokens), v1::FINISH_REASON_MAX_TOKENS);
  EXPECT_EQ(ToPublicFinish(FinishReason::kContextFull), v1::FINISH_REASON_CONTEXT_FULL);
  EXPECT_EQ(ToPublicFinish(FinishReason::kNone), v1::FINISH_REASON_UNSPECIFIED);
}

}  // namespace
}  // namespace gemma3n
