// bench's load tool against `gemma3n serve` on the tiny model, test-sized:
// 64 concurrent streaming clients, every eighth request with an image and
// an audio clip, all within the default limits (16 running, 64 queued), so
// every request must succeed. Times are printed, never asserted.
#include <sys/wait.h>

#include <cstdio>

#include "gtest/gtest.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

using testing::ChildProcess;
using testing::WaitUntil;
using namespace std::chrono_literals;

TEST(LoadTest, SixtyFourConcurrentStreamsWithMediaAllSucceed) {
  const std::string dir = testing::TempDir("load");
  const std::string addr = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen", addr,
                      "--run-dir", dir + "/run", "--threads", "1"},
                     dir + "/serve.log");
  ASSERT_TRUE(WaitUntil([&] { return serve.Log().find("gemma3n serve: ready") != std::string::npos; }, 60s))
      << serve.Log();
  ChildProcess load({testing::BinDir() + "/gemma3n-load", "--addr", addr, "--clients", "64", "--requests", "2",
                     "--max-new", "4", "--image", testing::TestDataPath("images/image_0.png"), "--audio",
                     testing::TestDataPath("audio/audio_0.wav"), "--media-every", "8"},
                    dir + "/load.log");
  const int status = load.Wait(240s);
  ASSERT_NE(status, -1) << "the load run did not finish\n" << load.Log();
  std::fprintf(stderr, "%s", load.Log().c_str());
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << load.Log() << serve.Log();
  EXPECT_NE(load.Log().find("128 requests from 64 clients"), std::string::npos) << load.Log();
  EXPECT_NE(load.Log().find("128 ok, 0 resource_exhausted, 0 failed"), std::string::npos) << load.Log();
}

}  // namespace
}  // namespace gemma3n
