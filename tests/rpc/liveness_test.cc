// Liveness probes against real sockets: a live gRPC server answers, a socket
// nobody listens on is "not listening", and a socket whose process accepts
// nothing (what a SIGSTOPped server looks like from outside: the kernel takes
// the connection, nobody answers) is "hung" once enough probes time out.
#include "common/rpc/liveness.h"

#include <unistd.h>

#include <atomic>
#include <memory>
#include <filesystem>
#include <thread>

#include "common/rpc/server.h"
#include "gtest/gtest.h"
#include "tests/support/frozen_socket.h"

namespace gemma3n {
namespace {

using namespace std::chrono_literals;

class LivenessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("liveness-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    frozen_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Address(const std::string& name) const { return "unix:" + (dir_ / (name + ".sock")).string(); }
  // A socket that is listened on but never accepted from or answered.
  std::string Frozen() {
    const std::string address = Address("frozen");
    frozen_ = std::make_unique<testing::FrozenSocket>(address);
    return address;
  }
  std::filesystem::path dir_;
  std::unique_ptr<testing::FrozenSocket> frozen_;
};

TEST_F(LivenessTest, ALiveServerIsLive) {
  ServerOptions options;
  options.listen = Address("live");
  auto server = StartServer(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ(ProbeLiveness(options.listen, MakeChannel(options.listen), 2s), Liveness::kLive);
}

TEST_F(LivenessTest, NobodyListeningIsNotHung) {
  EXPECT_EQ(ProbeLiveness(Address("nobody"), MakeChannel(Address("nobody")), 500ms), Liveness::kNotListening);
}

TEST_F(LivenessTest, AServerThatNeverAnswersIsHung) {
  const std::string frozen = Frozen();
  EXPECT_EQ(ProbeLiveness(frozen, MakeChannel(frozen), 300ms), Liveness::kHung);
}

TEST_F(LivenessTest, HungNeedsThePolicysProbesInARow) {
  LivenessPolicy policy;
  policy.probes_to_declare_hung = 3;
  HangDetector d(policy);
  EXPECT_FALSE(d.Observe(Liveness::kHung));
  EXPECT_FALSE(d.Observe(Liveness::kHung));
  EXPECT_FALSE(d.Observe(Liveness::kLive));  // answering resets the count
  EXPECT_FALSE(d.Observe(Liveness::kHung));
  EXPECT_FALSE(d.Observe(Liveness::kNotListening));  // dead is not hung (a restart is under way)
  EXPECT_FALSE(d.Observe(Liveness::kHung));
  EXPECT_FALSE(d.Observe(Liveness::kHung));
  EXPECT_TRUE(d.Observe(Liveness::kHung));
  EXPECT_FALSE(d.Observe(Liveness::kLive));
}

TEST_F(LivenessTest, TheMonitorReportsTheHungTargetOnly) {
  ServerOptions options;
  options.listen = Address("live");
  auto server = StartServer(options);
  ASSERT_TRUE(server.ok()) << server.status();
  LivenessPolicy policy;
  policy.interval = 20ms;
  policy.deadline = 200ms;
  policy.probes_to_declare_hung = 2;
  std::atomic<int> live_reports{0}, frozen_reports{0};
  std::atomic<bool> frozen_hung{false};
  {
    LivenessMonitor monitor({options.listen, Frozen()}, policy, [&](size_t i, bool hung) {
      if (i == 0) ++live_reports;
      if (i == 1) {
        ++frozen_reports;
        frozen_hung = hung;
      }
    });
    for (int i = 0; i < 100 && !frozen_hung; ++i) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(frozen_hung.load());
  EXPECT_EQ(frozen_reports.load(), 1);
  EXPECT_EQ(live_reports.load(), 0);
}

}  // namespace
}  // namespace gemma3n
