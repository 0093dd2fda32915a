// Audio over 30 s through the whole system (`gemma3n serve` on the tiny
// model): a 37.3 s recording, made of the 30 s clip followed by the 7.3 s
// one, is split into two 30-second windows, and each window gives exactly
// what that window gives when sent on its own:
//  - the audio worker's spans are, bit for bit, the spans of each window's
//    own file (AudioEncoder.Encode);
//  - the gateway's prompt (CountTokens ids) is that of a request with the two
//    clips as two audio parts: two placeholder runs, one per window;
//  - the greedy tokens through the gateway are those of the two-part request.
// The tiny model has 12 audio placeholders per span (its own clips are 1-2 s);
// its audio tower yields the real model's 188 soft tokens for a 30 s window,
// so the test serves the tiny weights with the real model's
// audio_soft_tokens_per_image (188) from a copy of its config.json.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_join.h"
#include "common/checkpoint/checkpoint.h"
#include "gateway/transcription_prompt.h"
#include "common/rpc/server.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;
using testing::ChildProcess;
using namespace std::chrono_literals;

constexpr size_t kWavHeader = 44;  // RIFF, fmt (16 bytes of PCM format), data header

uint32_t Le32(const std::string& b, size_t at) {
  uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
void PutLe32(std::string& b, size_t at, uint32_t v) { std::memcpy(b.data() + at, &v, 4); }

// The test clips are canonical 44-byte-header WAVs of 16 kHz mono 16-bit PCM
// (checked), so their samples can be joined without decoding: the decoder
// then sees exactly each clip's samples, the first clip's 480000 filling
// the first 30 s window.
::testing::AssertionResult IsPlain16kMonoPcm16(const std::string& wav) {
  if (wav.size() < kWavHeader || wav.compare(0, 4, "RIFF") != 0 || wav.compare(8, 8, "WAVEfmt ") != 0 ||
      wav.compare(36, 4, "data") != 0) {
    return ::testing::AssertionFailure() << "not a canonical WAV";
  }
  const uint16_t format = static_cast<uint8_t>(wav[20]) | static_cast<uint8_t>(wav[21]) << 8;
  const uint16_t channels = static_cast<uint8_t>(wav[22]) | static_cast<uint8_t>(wav[23]) << 8;
  const uint16_t bits = static_cast<uint8_t>(wav[34]) | static_cast<uint8_t>(wav[35]) << 8;
  if (format != 1 || channels != 1 || Le32(wav, 24) != 16000 || bits != 16 ||
      Le32(wav, 40) != wav.size() - kWavHeader) {
    return ::testing::AssertionFailure() << "not 16 kHz mono 16-bit PCM with the data chunk last";
  }
  return ::testing::AssertionSuccess();
}

// One WAV with a's samples followed by b's (both plain 16 kHz mono PCM16).
std::string JoinWavs(const std::string& a, const std::string& b) {
  std::string out = a + b.substr(kWavHeader);
  PutLe32(out, 4, static_cast<uint32_t>(out.size() - 8));
  PutLe32(out, 40, static_cast<uint32_t>(out.size() - kWavHeader));
  return out;
}

pb::GenerateRequest AudioChat(const std::vector<std::string>& clips) {
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  for (const std::string& clip : clips) user->add_parts()->mutable_audio()->set_data(clip);
  user->add_parts()->set_text("Transcribe this audio.");
  req.mutable_config()->set_max_new_tokens(8);
  req.mutable_config()->set_ignore_eos(true);
  return req;
}

// A model directory with the tiny model's files (linked) and its config with
// `audio_soft_tokens_per_image` set to the real model's 188.
std::string TinyModelWithRealAudioSpans(const std::string& dir) {
  namespace fs = std::filesystem;
  const fs::path tiny = testing::TinyModelDir(), out = fs::path(dir) / "model";
  fs::create_directories(out);
  for (const auto& entry : fs::directory_iterator(tiny)) {
    if (entry.path().filename() != "config.json") fs::create_symlink(entry.path(), out / entry.path().filename());
  }
  auto config = ReadJsonFile(tiny / "config.json");
  EXPECT_TRUE(config.ok()) << config.status();
  if (!config.ok()) return "";
  (*config)["audio_soft_tokens_per_image"] = 188;
  std::ofstream(out / "config.json") << config->dump(2);
  return out;
}

// Lengths of the runs of `id` in `ids`, in order.
std::vector<int> RunLengths(const std::vector<int>& ids, int id) {
  std::vector<int> runs;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] != id) continue;
    if (i == 0 || ids[i - 1] != id) runs.push_back(0);
    ++runs.back();
  }
  return runs;
}

TEST(LongAudioTest, EachThirtySecondWindowIsTheSpanOfThatWindowAlone) {
  const std::string first = testing::ReadBytes(testing::TestDataPath("audio/speech30s.wav"));
  const std::string second = testing::ReadBytes(testing::TestDataPath("audio/speech7s.wav"));
  ASSERT_TRUE(IsPlain16kMonoPcm16(first)) << "speech30s.wav";
  ASSERT_TRUE(IsPlain16kMonoPcm16(second)) << "speech7s.wav";
  ASSERT_EQ(first.size() - kWavHeader, 480000u * 2) << "speech30s.wav must hold exactly one 30 s window";
  const std::string joined = JoinWavs(first, second);

  const std::string dir = testing::TempDir("long-audio");
  const std::string addr = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  const std::string model = TinyModelWithRealAudioSpans(dir);
  ASSERT_FALSE(model.empty());
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", model, "--listen", addr,
                      "--run-dir", dir, "--no-vision", "--threads", "1"},
                     dir + "/serve.log");
  auto gateway = pb::Gemma::NewStub(MakeChannel(addr));
  auto audio = ipb::AudioEncoder::NewStub(MakeChannel("unix:" + dir + "/audio.sock"));
  auto encode = [&](const std::string& bytes, ipb::EncodeResponse* out) {
    ipb::EncodeRequest req;
    req.set_data(bytes);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    return audio->Encode(&ctx, req, out);
  };
  ipb::EncodeResponse alone_second;
  ASSERT_TRUE(testing::WaitUntil([&] { return encode(second, &alone_second).ok(); }, 30s)) << serve.Log();
  ASSERT_TRUE(testing::WaitUntil([&] { return testing::Call(*gateway, testing::RawPrompt("hi", 1)).status.ok(); }, 30s))
      << serve.Log();

  // The audio worker: two spans, each bit for bit its window's own span.
  ipb::EncodeResponse long_spans, alone_first;
  ASSERT_TRUE(encode(joined, &long_spans).ok());
  ASSERT_TRUE(encode(first, &alone_first).ok());
  ASSERT_EQ(alone_first.spans_size(), 1);
  ASSERT_EQ(alone_second.spans_size(), 1);
  ASSERT_EQ(long_spans.spans_size(), 2) << "37.3 s of audio is two 30 s windows";
  const ipb::SoftTokens* alone[2] = {&alone_first.spans(0), &alone_second.spans(0)};
  for (int w = 0; w < 2; ++w) {
    const ipb::SoftTokens& span = long_spans.spans(w);
    EXPECT_GT(span.rows(), 0);
    EXPECT_EQ(span.rows(), alone[w]->rows()) << "window " << w;
    EXPECT_EQ(span.width(), alone[w]->width()) << "window " << w;
    EXPECT_EQ(span.f32().size(), static_cast<size_t>(span.rows()) * span.width() * sizeof(float));
    EXPECT_TRUE(span.f32() == alone[w]->f32()) << "window " << w << "'s soft tokens differ from its own file's";
  }
  // The two windows are different audio, so equal spans would mean nothing.
  EXPECT_FALSE(alone_first.spans(0).f32() == alone_second.spans(0).f32());

  // The gateway: one placeholder run per window, the prompt of the two clips
  // sent as two audio parts, and their greedy tokens.
  const pb::GenerateRequest long_req = AudioChat({joined}), parts_req = AudioChat({first, second});
  const std::vector<int> long_ids = testing::PromptIds(*gateway, long_req);
  const std::vector<int> parts_ids = testing::PromptIds(*gateway, parts_req);
  const std::vector<int> one_window_ids = testing::PromptIds(*gateway, AudioChat({first}));
  EXPECT_EQ(long_ids, parts_ids);
  auto config = ReadJsonFile(model + "/config.json");
  ASSERT_TRUE(config.ok()) << config.status();
  const int audio_token = (*config)["audio_token_id"], per_span = (*config)["audio_soft_tokens_per_image"];
  EXPECT_EQ(RunLengths(long_ids, audio_token), std::vector<int>({per_span, per_span}));
  EXPECT_EQ(RunLengths(one_window_ids, audio_token), std::vector<int>({per_span}));

  const testing::Outcome long_out = testing::Call(*gateway, long_req);
  const testing::Outcome parts_out = testing::Call(*gateway, parts_req);
  ASSERT_TRUE(long_out.status.ok()) << long_out.status.error_message();
  ASSERT_TRUE(parts_out.status.ok()) << parts_out.status.error_message();
  EXPECT_EQ(long_out.ids.size(), 8u);
  EXPECT_EQ(long_out.ids, parts_out.ids);
  EXPECT_EQ(long_out.usage.prompt_tokens(), static_cast<int>(long_ids.size()));
  std::printf("[long audio] 37.3 s: %d spans of %d x %d, equal to each window's own; prompt %zu ids (one window: %zu); "
              "greedy %zu tokens equal to the two-part request's\n",
              long_spans.spans_size(), long_spans.spans(0).rows(), long_spans.spans(0).width(), long_ids.size(),
              one_window_ids.size(), long_out.ids.size());
  if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve.Log().c_str());
}

// Transcribe over 30 s: one generation per window, each exactly the
// generation of the transcription instruction with that window's clip alone,
// with the windows' times; the usage is the windows' sum.
TEST(LongAudioTest, TranscribeRunsOneGenerationPerWindow) {
  const std::string first = testing::ReadBytes(testing::TestDataPath("audio/speech30s.wav"));
  const std::string second = testing::ReadBytes(testing::TestDataPath("audio/speech7s.wav"));
  const std::string joined = JoinWavs(first, second);
  const std::string dir = testing::TempDir("transcribe");
  const std::string addr = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  const std::string model = TinyModelWithRealAudioSpans(dir);
  ASSERT_FALSE(model.empty());
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", model, "--listen", addr, "--run-dir", dir,
                      "--no-vision", "--threads", "1"},
                     dir + "/serve.log");
  auto gateway = pb::Gemma::NewStub(MakeChannel(addr));
  ASSERT_TRUE(testing::WaitUntil([&] { return testing::Call(*gateway, testing::RawPrompt("hi", 1)).status.ok(); }, 30s))
      << serve.Log();

  pb::TranscribeRequest req;
  req.mutable_audio()->set_data(joined);
  req.set_language("en");
  req.mutable_config()->set_max_new_tokens(6);
  req.mutable_config()->set_ignore_eos(true);
  pb::TranscribeResponse reply;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 120s);
  const grpc::Status status = gateway->Transcribe(&ctx, req, &reply);
  ASSERT_TRUE(status.ok()) << status.error_message() << serve.Log();
  ASSERT_EQ(reply.segments_size(), 2) << "37.3 s: two 30 s windows";
  EXPECT_DOUBLE_EQ(reply.segments(0).start_seconds(), 0);
  EXPECT_DOUBLE_EQ(reply.segments(0).end_seconds(), 30);
  EXPECT_DOUBLE_EQ(reply.segments(1).start_seconds(), 30);
  const double total = 30 + static_cast<double>(second.size() - kWavHeader) / 2 / 16000;
  EXPECT_NEAR(reply.segments(1).end_seconds(), total, 1e-6);
  EXPECT_NEAR(reply.duration_seconds(), total, 1e-6);
  EXPECT_EQ(reply.language(), "en");

  // Each window as its own chat request: the instruction and that clip.
  int prompt_tokens = 0;
  const std::string clips[2] = {first, second};
  std::vector<std::string> texts;
  for (int w = 0; w < 2; ++w) {
    pb::GenerateRequest alone;
    pb::Message* user = alone.add_messages();
    user->set_role("user");
    user->add_parts()->set_text(TranscriptionInstruction(pb::TRANSCRIBE_TASK_TRANSCRIBE, "en", ""));
    user->add_parts()->mutable_audio()->set_data(clips[w]);
    *alone.mutable_config() = req.config();
    const testing::Outcome out = testing::Call(*gateway, alone);
    ASSERT_TRUE(out.status.ok()) << out.status.error_message();
    EXPECT_EQ(reply.segments(w).text(), absl::StripAsciiWhitespace(out.text)) << "window " << w;
    EXPECT_EQ(reply.segments(w).finish_reason(), pb::FINISH_REASON_MAX_TOKENS);
    prompt_tokens += out.usage.prompt_tokens();
    if (!reply.segments(w).text().empty()) texts.push_back(reply.segments(w).text());
  }
  EXPECT_EQ(reply.text(), absl::StrJoin(texts, " "));
  EXPECT_EQ(reply.usage().prompt_tokens(), prompt_tokens);
  EXPECT_EQ(reply.usage().generated_tokens(), 12);
  if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve.Log().c_str());
}

}  // namespace
}  // namespace gemma3n
