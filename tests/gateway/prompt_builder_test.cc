// Prompt building over the tiny model's config and tokenizer: a raw prompt,
// the chat template, media parts in order, and each encoder span attached to
// its placeholder run (an image: one run; audio: one per 30 s window).
#include "gateway/prompt_builder.h"

#include <algorithm>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/tiny_model.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;
using ::testing::HasSubstr;
using Messages = google::protobuf::RepeatedPtrField<pb::Message>;

class PromptBuilderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    config_ = new ModelConfig(testing::TinyModelConfig());
    tokenizer_ = testing::TinyModelTokenizer().release();
    ASSERT_NE(tokenizer_, nullptr);
  }
  // One user message: "Describe:" then one part of each kind in `media` ("image" / "audio").
  static Messages UserTurn(const std::vector<std::string>& media) {
    Messages messages;
    pb::Message* m = messages.Add();
    m->set_role("user");
    m->add_parts()->set_text("Describe:");
    for (const std::string& kind : media) {
      (kind == "image" ? m->add_parts()->mutable_image() : m->add_parts()->mutable_audio())->set_data("bytes");
    }
    return messages;
  }
  static ipb::SoftTokens Span(int rows) {
    ipb::SoftTokens s;
    s.set_rows(rows);
    s.set_width(4);
    return s;
  }
  static ModelConfig* config_;
  static Tokenizer* tokenizer_;
};
ModelConfig* PromptBuilderTest::config_ = nullptr;
Tokenizer* PromptBuilderTest::tokenizer_ = nullptr;

TEST_F(PromptBuilderTest, ARawPromptIsEncodedWithBos) {
  auto built = BuildPrompt({}, "Hello there", {}, *tokenizer_, *config_);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->ids, tokenizer_->Encode("Hello there", true));
  EXPECT_TRUE(built->soft.empty());
}

TEST_F(PromptBuilderTest, MessagesAndARawPromptTogetherAreRefused) {
  auto both = BuildPrompt(UserTurn({}), "Hello", {}, *tokenizer_, *config_);
  EXPECT_EQ(both.status().code(), absl::StatusCode::kInvalidArgument);
  auto neither = BuildPrompt({}, "", {}, *tokenizer_, *config_);
  EXPECT_EQ(neither.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(PromptBuilderTest, MediaPartsAreCollectedInOrderAndEmptyOnesRefused) {
  auto parts = CollectMedia(UserTurn({"audio", "image"}));
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].kind, EncodedMedia::Kind::kAudio);
  EXPECT_EQ((*parts)[1].kind, EncodedMedia::Kind::kImage);

  Messages empty_media = UserTurn({"image"});
  empty_media[0].mutable_parts(1)->mutable_image()->clear_data();
  EXPECT_THAT(CollectMedia(empty_media).status().message(), HasSubstr("messages[0].parts[1]: the image has no data"));
  Messages empty_part = UserTurn({});
  empty_part[0].add_parts();
  EXPECT_THAT(CollectMedia(empty_part).status().message(), HasSubstr("messages[0].parts[1] is empty"));
}

TEST_F(PromptBuilderTest, MessagesWithoutContentAreRefusedNamingTheMessage) {
  const auto refusal = [](const Messages& messages) {
    absl::Status status = CollectMedia(messages).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_EQ(BuildPrompt(messages, "", {}, *tokenizer_, *config_).status(), status);
    return std::string(status.message());
  };
  Messages no_parts = UserTurn({});
  no_parts.Add()->set_role("model");
  EXPECT_THAT(refusal(no_parts), HasSubstr("messages[1] has no content"));
  Messages blank = UserTurn({});
  blank[0].mutable_parts(0)->set_text(" \n\t ");
  blank[0].add_parts()->set_text("");
  EXPECT_THAT(refusal(blank), HasSubstr("messages[0] has no content"));
  Messages with_image = UserTurn({"image"});
  with_image[0].mutable_parts(0)->set_text("  ");
  EXPECT_TRUE(CollectMedia(with_image).ok());  // an image is content
}

TEST_F(PromptBuilderTest, PartsAndMessagesAreCappedBeforeAnyWork) {
  Messages many_parts = UserTurn({});
  for (int i = 0; i < 200000; ++i) many_parts[0].add_parts()->set_text("");
  EXPECT_THAT(CollectMedia(many_parts).status().message(),
              HasSubstr("messages[0] has 200001 parts, more than the 256 a message may hold"));
  Messages at_cap = UserTurn({});
  for (int i = 1; i < kMaxPartsPerMessage; ++i) at_cap[0].add_parts()->set_text("x");
  EXPECT_TRUE(CollectMedia(at_cap).ok());
  Messages many_messages;
  const Messages one = UserTurn({});
  for (int i = 0; i <= kMaxMessagesPerRequest; ++i) *many_messages.Add() = one[0];
  absl::Status status = BuildPrompt(many_messages, "", {}, *tokenizer_, *config_).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("1025 messages, more than the 1024 allowed"));
}

TEST_F(PromptBuilderTest, InvalidUtf8IsRefusedNamingTheField) {
  Messages bad_text = UserTurn({});
  bad_text[0].add_parts()->set_text("ok \xC3\x28");
  EXPECT_THAT(CollectMedia(bad_text).status().message(), HasSubstr("messages[0].parts[1].text is not valid UTF-8"));
  Messages bad_role = UserTurn({});
  bad_role[0].set_role("us\xFF" "er");
  EXPECT_THAT(BuildPrompt(bad_role, "", {}, *tokenizer_, *config_).status().message(),
              HasSubstr("messages[0].role is not valid UTF-8"));
  auto raw = BuildPrompt({}, "abc\x80", {}, *tokenizer_, *config_);
  EXPECT_EQ(raw.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(raw.status().message(), HasSubstr("prompt is not valid UTF-8"));
}

TEST_F(PromptBuilderTest, RawSoftTokenPlaceholdersWithoutMediaAreRefused) {
  std::string images;
  for (int i = 0; i < 3000; ++i) images += "<image_soft_token>";
  auto built = BuildPrompt({}, "Look: " + images, {}, *tokenizer_, *config_);
  EXPECT_EQ(built.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(built.status().message(), HasSubstr("the prompt has 1 image placeholder runs but 0 image encodings"));
  auto audio = BuildPrompt({}, "<audio_soft_token> and <audio_soft_token>", {}, *tokenizer_, *config_);
  EXPECT_THAT(audio.status().message(), HasSubstr("the prompt has 2 audio placeholder runs but 0 audio encodings"));
  // Other control tokens stay the raw mode's to write.
  EXPECT_TRUE(BuildPrompt({}, "<start_of_turn>user\nHi<end_of_turn>\n", {}, *tokenizer_, *config_).ok());
}

TEST_F(PromptBuilderTest, EachSpanIsAttachedToItsPlaceholderRun) {
  const int image_rows = config_->vision_soft_tokens_per_image;
  const int audio_rows = config_->audio_soft_tokens_per_image;
  std::vector<EncodedMedia> media(2);
  media[0].kind = EncodedMedia::Kind::kImage;
  media[0].spans = {Span(image_rows)};
  media[1].kind = EncodedMedia::Kind::kAudio;
  media[1].spans = {Span(audio_rows), Span(audio_rows)};  // two 30 s windows
  auto built = BuildPrompt(UserTurn({"image", "audio"}), "", media, *tokenizer_, *config_);
  ASSERT_TRUE(built.ok()) << built.status();
  EXPECT_EQ(built->images, 1);
  EXPECT_EQ(built->audio_spans, 2);
  ASSERT_EQ(built->soft.size(), 3u);
  const std::vector<int>& ids = built->ids;
  EXPECT_EQ(std::count(ids.begin(), ids.end(), config_->image_token_id), image_rows);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), config_->audio_token_id), 2 * audio_rows);
  const int placeholder[] = {config_->image_token_id, config_->audio_token_id, config_->audio_token_id};
  for (size_t i = 0; i < built->soft.size(); ++i) {
    const ipb::SoftTokenSpan& s = built->soft[i];
    if (i > 0) {
      EXPECT_GT(s.position(), built->soft[i - 1].position());
    }
    ASSERT_LE(s.position() + s.tokens().rows(), static_cast<int64_t>(ids.size()));
    for (int r = 0; r < s.tokens().rows(); ++r) EXPECT_EQ(ids[s.position() + r], placeholder[i]) << "span " << i;
    EXPECT_NE(ids[s.position() - 1], placeholder[i]);  // the run starts there
  }
}

TEST_F(PromptBuilderTest, AnEncodingOfTheWrongSizeIsAnError) {
  std::vector<EncodedMedia> media(1);
  media[0].kind = EncodedMedia::Kind::kImage;
  media[0].spans = {Span(config_->vision_soft_tokens_per_image - 1)};
  auto built = BuildPrompt(UserTurn({"image"}), "", media, *tokenizer_, *config_);
  EXPECT_EQ(built.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(built.status().message(), HasSubstr("the encoder gave"));
}

}  // namespace
}  // namespace gemma3n
