// The gemma3n-ple-service binary as a process: a client notices within a
// poll slice that the service was SIGKILLed (UNAVAILABLE, no hang), finds a
// restarted service again, and the restarted service removes what the killed
// one left in /dev/shm; a stopped (SIGSTOP) service is UNAVAILABLE after the
// lookup timeout; SIGTERM removes the segments and exits 0; a bad model
// directory is exit code 2 with a message.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ple_service/client/shm_per_layer_embeddings.h"
#include "common/process/process_alive.h"
#include "tests/ple/ple_test_util.h"
#include "tests/support/golden.h"

namespace gemma3n::ple {
namespace {

using Clock = std::chrono::steady_clock;
using testing::kTinyRowWidth;
using testing::ReferenceRows;
using testing::SegmentsOf;
using testing::Wait;

// Waits (<= 5 s) until /proc/<pid>/stat shows `state` ('T' stopped, 'Z' zombie).
bool WaitForState(pid_t pid, char state) {
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < until) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t close = stat.rfind(')');
    if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == state) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return false;
}

class PleProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    address_ = "unix:" + ::testing::TempDir() + "ple-proc-" + std::to_string(::getpid()) + ".sock";
  }
  void TearDown() override {
    for (pid_t pid : running_) {
      ::kill(pid, SIGKILL);
      Wait(pid);
    }
    ::unlink(address_.substr(5).c_str());  // a killed service leaves its socket file
  }
  pid_t StartService() {
    const pid_t pid = testing::Spawn(GEMMA3N_PLE_SERVICE_BIN, {"--model", gemma3n::testing::TinyModelDir(), "--listen",
                                                               address_, "--log-level", "warn"});
    running_.push_back(pid);
    return pid;
  }
  void Forget(pid_t pid) { running_.erase(std::find(running_.begin(), running_.end(), pid)); }
  std::shared_ptr<ShmPerLayerEmbeddings> ConnectWhenUp() { return testing::ConnectWhenUp(address_, "process-test"); }

  std::string address_;
  std::vector<pid_t> running_;
};

TEST_F(PleProcessTest, KilledServiceIsUnavailableQuicklyAndARestartedOneIsFoundAgain) {
  const pid_t first = StartService();
  auto client = ConnectWhenUp();
  ASSERT_TRUE(client);
  std::vector<float> rows(3 * kTinyRowWidth);
  ASSERT_TRUE(client->Lookup({1, 2, 3}, rows.data()).ok());
  ASSERT_EQ(SegmentsOf(first).size(), 1u);

  ASSERT_EQ(::kill(first, SIGKILL), 0);
  // Not reaped yet: a zombie, as when the parent is slow to wait (kill(pid, 0)
  // still succeeds for it). Wait until the kernel has actually ended it.
  ASSERT_TRUE(WaitForState(first, 'Z'));
  EXPECT_FALSE(ProcessAlive(first));
  auto t0 = Clock::now();
  absl::Status s = client->Lookup({1, 2, 3}, rows.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("PLE service at " + address_ + " is not running"), std::string::npos) << s;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
  EXPECT_FALSE(client->attached());
  t0 = Clock::now();
  s = client->Lookup({1}, rows.data());  // nobody to attach to
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));

  EXPECT_EQ(Wait(first), 128 + SIGKILL);
  Forget(first);
  // SIGKILL left its segment behind. (Any PLE service starting now, e.g. in
  // another test process without our RESOURCE_LOCK, may remove it first.)
  if (SegmentsOf(first).size() != 1u) std::fprintf(stderr, "note: the killed service's segment is already gone\n");

  const pid_t second = StartService();
  const auto until = Clock::now() + std::chrono::seconds(20);
  do {
    s = client->Lookup({1, 2, 3}, rows.data());
    if (!s.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  } while (!s.ok() && Clock::now() < until);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(client->attached());
  EXPECT_EQ(rows, ReferenceRows({1, 2, 3}));
  EXPECT_TRUE(SegmentsOf(first).empty());  // removed by the restarted service
  EXPECT_EQ(SegmentsOf(second).size(), 1u);
}

TEST_F(PleProcessTest, SilentServiceIsUnavailableAfterTheLookupTimeout) {
  const pid_t pid = StartService();
  ASSERT_TRUE(ConnectWhenUp());  // up
  ShmPleClientOptions options;
  options.lookup_timeout = std::chrono::milliseconds(300);
  auto c = ShmPerLayerEmbeddings::Connect(address_, "patient", 4, kTinyRowWidth, options);
  ASSERT_TRUE(c.ok()) << c.status();
  auto client = *c;
  std::vector<float> rows(kTinyRowWidth);
  ASSERT_TRUE(client->Lookup({7}, rows.data()).ok());
  ASSERT_EQ(::kill(pid, SIGSTOP), 0);  // alive, but answers nothing
  ASSERT_TRUE(WaitForState(pid, 'T'));  // the signal takes effect asynchronously
  const auto t0 = Clock::now();
  absl::Status s = client->Lookup({7}, rows.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("did not answer"), std::string::npos) << s;
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(300));
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(3));
  EXPECT_FALSE(client->attached());
  ASSERT_EQ(::kill(pid, SIGCONT), 0);
  s = client->Lookup({7}, rows.data());  // attaches again
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(rows, ReferenceRows({7}));
}

TEST_F(PleProcessTest, SigtermRemovesTheSegmentsAndExitsZero) {
  const pid_t pid = StartService();
  auto a = ConnectWhenUp();
  auto b = ConnectWhenUp();
  ASSERT_TRUE(a && b);
  EXPECT_EQ(SegmentsOf(pid).size(), 2u);
  ASSERT_EQ(::kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 0);
  Forget(pid);
  EXPECT_TRUE(SegmentsOf(pid).empty());
  std::vector<float> rows(kTinyRowWidth);
  const auto t0 = Clock::now();
  absl::Status s = a->Lookup({5}, rows.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(5));
}

TEST_F(PleProcessTest, BadModelDirectoryIsExitCodeTwo) {
  const std::string err = ::testing::TempDir() + "ple-bad-model-" + std::to_string(::getpid()) + ".txt";
  const std::string cmd = std::string(GEMMA3N_PLE_SERVICE_BIN) + " --model /nonexistent/model --listen " + address_ +
                          " 2>" + err;
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 2);
  std::ifstream in(err);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find("/nonexistent/model"), std::string::npos) << text;
  EXPECT_NE(text.find("does not exist"), std::string::npos) << text;
  std::remove(err.c_str());
}

}  // namespace
}  // namespace gemma3n::ple
