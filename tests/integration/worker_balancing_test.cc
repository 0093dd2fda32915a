// Three vision workers behind one worker address (an ipv4: list, as a DNS
// name of a Kubernetes headless Service would give): gRPC spreads the image
// requests over the instances that are up, takes in one that starts late,
// and, when one is killed mid-run, every later request still succeeds.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

constexpr int kVisionWorkers = 3;

pb::GenerateRequest ImageChat() {
  return testing::MediaChat(testing::MediaKind::kImage, "images/image_0.png", "Describe this image.", 1);
}

// Images a vision worker's log says it encoded.
int Encoded(const ChildProcess& worker) {
  const std::string log = worker.Log();
  int n = 0;
  for (size_t at = log.find("vision of "); at != std::string::npos; at = log.find("vision of ", at + 1)) ++n;
  return n;
}

class WorkerBalancingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("balancing");
    const std::string bin = testing::BinDir(), model = testing::TinyModelDir();
    const std::string ple = "unix:" + dir_ + "/ple.sock", text = "unix:" + dir_ + "/text.sock";
    ple_ = ChildProcess({bin + "/gemma3n-ple-service", "--model", model, "--listen", ple}, dir_ + "/ple.log");
    text_ = ChildProcess({bin + "/gemma3n-text-worker", "--model", model, "--listen", text, "--ple", ple,
                          "--threads", "1"},
                         dir_ + "/text.log");
    std::vector<std::string> endpoints;
    for (int i = 0; i < kVisionWorkers; ++i) {
      ports_.push_back(testing::FreeTcpPort());
      endpoints.push_back(absl::StrCat("127.0.0.1:", ports_.back()));
    }
    vision_.resize(kVisionWorkers);
    const std::string gateway = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
    gateway_ = ChildProcess({bin + "/gemma3n-gateway", "--model", model, "--listen", gateway, "--text-worker", text,
                             "--vision-worker", "ipv4:" + absl::StrJoin(endpoints, ",")},
                            dir_ + "/gateway.log");
    stub_ = pb::Gemma::NewStub(MakeChannel(gateway));
  }
  void StartVision(int i) {
    vision_[i] = ChildProcess({testing::BinDir() + "/gemma3n-vision-worker", "--model", testing::TinyModelDir(),
                               "--listen", absl::StrCat("127.0.0.1:", ports_[i]), "--threads", "1"},
                              absl::StrCat(dir_, "/vision-", i, ".log"));
    ASSERT_TRUE(WaitUntil([&] { return vision_[i].Log().find("vision encoder ready") != std::string::npos; }, 30s))
        << vision_[i].Log();
  }
  bool ImageRequestSucceeds() {
    const testing::Outcome out = testing::Call(*stub_, ImageChat(), 30s);
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
    return out.status.ok();
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "---- gateway ----\n%s\n", gateway_.Log().c_str());
  }

  std::string dir_;
  std::vector<int> ports_;
  ChildProcess ple_, text_, gateway_;
  std::vector<ChildProcess> vision_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
};

TEST_F(WorkerBalancingTest, RequestsSpreadOverTheInstancesUpAndSurviveOneKilled) {
  ASSERT_NO_FATAL_FAILURE(StartVision(0));
  ASSERT_NO_FATAL_FAILURE(StartVision(1));
  ASSERT_TRUE(WaitUntil([&] { return testing::Call(*stub_, ImageChat(), 10s).status.ok(); }, 60s))
      << gateway_.Log();
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(ImageRequestSucceeds());
  EXPECT_GE(Encoded(vision_[0]), 2) << "round robin uses every instance that is up";
  EXPECT_GE(Encoded(vision_[1]), 2);

  // An instance that comes up later gets requests too (its address was
  // known; gRPC keeps trying it).
  ASSERT_NO_FATAL_FAILURE(StartVision(2));
  EXPECT_TRUE(WaitUntil([&] { return ImageRequestSucceeds() && Encoded(vision_[2]) >= 2; }, 30s));

  // One killed mid-run: every request after it still succeeds, on the others.
  vision_[0].Signal(SIGKILL);
  vision_[0].Wait(5s);
  const int before_1 = Encoded(vision_[1]), before_2 = Encoded(vision_[2]);
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(ImageRequestSucceeds()) << "request " << i << " after the kill";
  EXPECT_EQ(Encoded(vision_[1]) + Encoded(vision_[2]), before_1 + before_2 + 8);
}

}  // namespace
}  // namespace gemma3n
