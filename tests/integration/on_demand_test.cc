// `gemma3n serve --encoders on-demand` on the tiny model: no encoder runs
// until a request needs one, the first image or audio request waits for its
// worker and is served, an idle worker stops and is started again by the
// next request, and a worker that cannot start gives that request a clear
// error while text keeps being served.
#include <chrono>
#include <cstdio>
#include <thread>

#include "common/rpc/server.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
using testing::ChildProcess;
using testing::WaitUntil;
using namespace std::chrono_literals;

pb::GenerateRequest WithMedia(bool image) {
  return image ? testing::MediaChat(testing::MediaKind::kImage, "images/image_0.png", "What is this?", 1)
               : testing::MediaChat(testing::MediaKind::kAudio, "audio/audio_0.wav", "What is this?", 1);
}

class OnDemandTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    dir_ = testing::TempDir("on-demand");
    addr_ = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
    std::vector<std::string> argv = {testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(),
                                     "--listen", addr_, "--run-dir", dir_ + "/run", "--threads", "1",
                                     "--encoders", "on-demand"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    serve_ = ChildProcess(argv, dir_ + "/serve.log");
    ASSERT_TRUE(WaitUntil([&] { return serve_.Log().find("gemma3n serve: ready") != std::string::npos; }, 60s))
        << serve_.Log();
    stub_ = pb::Gemma::NewStub(MakeChannel(addr_));
  }
  size_t Running(const std::string& binary) { return testing::ChildrenMatching(serve_.pid(), binary).size(); }
  // The outcome, and how long it took.
  testing::Outcome Timed(const pb::GenerateRequest& req, double* seconds) {
    const auto start = std::chrono::steady_clock::now();
    testing::Outcome out = testing::Call(*stub_, req, 60s);
    *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return out;
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve_.Log().c_str());
  }

  std::string dir_, addr_;
  ChildProcess serve_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
};

TEST_F(OnDemandTest, EncodersStartForTheFirstRequestThatNeedsThemAndStopWhenIdle) {
  ASSERT_NO_FATAL_FAILURE(Start({"--encoder-idle-stop", "3s"}));
  EXPECT_EQ(Running("gemma3n-vision-worker"), 0u);
  EXPECT_EQ(Running("gemma3n-audio-worker"), 0u);
  ASSERT_TRUE(testing::Call(*stub_, testing::RawPrompt("hello", 2)).status.ok());
  EXPECT_EQ(Running("gemma3n-vision-worker"), 0u) << "text only never starts an encoder";

  double cold = 0, warm = 0, audio_cold = 0;
  const testing::Outcome first = Timed(WithMedia(true), &cold);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(Running("gemma3n-vision-worker"), 1u);
  EXPECT_EQ(Running("gemma3n-audio-worker"), 0u);
  ASSERT_TRUE(Timed(WithMedia(true), &warm).status.ok());
  const testing::Outcome audio = Timed(WithMedia(false), &audio_cold);
  ASSERT_TRUE(audio.status.ok()) << audio.status.error_message();
  EXPECT_EQ(Running("gemma3n-audio-worker"), 1u);
  std::fprintf(stderr, "first image %.3f s, next image %.3f s, first audio %.3f s\n", cold, warm, audio_cold);

  // Idle past the limit: both stop, and serve does not restart them ...
  EXPECT_TRUE(WaitUntil([&] { return Running("gemma3n-vision-worker") + Running("gemma3n-audio-worker") == 0; }, 30s));
  EXPECT_NE(serve_.Log().find("vision-worker stopped (idle)"), std::string::npos);
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(Running("gemma3n-vision-worker"), 0u);
  // ... until the next image needs one.
  const testing::Outcome again = testing::Call(*stub_, WithMedia(true));
  EXPECT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.ids, first.ids);
}

TEST_F(OnDemandTest, AnEncoderThatCannotStartFailsItsRequestClearlyAndTextGoesOn) {
  // The vision worker refuses this size (exit code 2) each time it starts.
  ASSERT_NO_FATAL_FAILURE(Start({"--image-size", "99999"}));
  const testing::Outcome image = testing::Call(*stub_, WithMedia(true), 60s);
  EXPECT_EQ(image.status.error_code(), grpc::StatusCode::UNAVAILABLE) << image.status.error_message();
  EXPECT_NE(image.status.error_message().find("vision worker could not be started"), std::string::npos)
      << image.status.error_message();
  EXPECT_NE(image.status.error_message().find("bad arguments or input"), std::string::npos)
      << image.status.error_message();
  // serve goes on serving what it can.
  EXPECT_TRUE(testing::Call(*stub_, testing::RawPrompt("hello", 2)).status.ok());
  EXPECT_TRUE(testing::Call(*stub_, WithMedia(false)).status.ok());
}

}  // namespace
}  // namespace gemma3n
