// Faults under `gemma3n serve` on the tiny model, while requests run: a
// worker that stops answering (SIGSTOP: stuck, not dead) has its requests
// ended UNAVAILABLE instead of left waiting, and serve kills and restarts
// it; a killed gateway is restarted. Service resumes after each.
#include <signal.h>

#include <atomic>
#include <filesystem>
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

class FaultTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_dir_ = testing::TempDir("fault");
    addr_ = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
    serve_ = ChildProcess({testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen",
                           addr_, "--run-dir", run_dir_, "--threads", "1"},
                          run_dir_ + "/serve.log");
    stub_ = pb::Gemma::NewStub(MakeChannel(addr_));
    ASSERT_TRUE(WaitUntil([&] { return testing::Call(*stub_, testing::RawPrompt("hi", 1)).status.ok(); }, 60s))
        << serve_.Log();
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve_.Log().c_str());
  }
  pid_t Only(const std::string& binary) {
    const std::vector<pid_t> pids = testing::ChildrenMatching(serve_.pid(), binary);
    EXPECT_EQ(pids.size(), 1u) << binary;
    return pids.empty() ? -1 : pids[0];
  }
  // serve replaced `old` by a new process of `binary` (killed as hung, restarted).
  bool Replaced(const std::string& binary, pid_t old) {
    const std::vector<pid_t> pids = testing::ChildrenMatching(serve_.pid(), binary);
    return pids.size() == 1 && pids[0] != old;
  }
  pb::GenerateRequest ImageChat() {
    return testing::MediaChat(testing::MediaKind::kImage, "images/image_0.png", "Describe this image.", 2);
  }

  std::string run_dir_, addr_;
  ChildProcess serve_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
};

TEST_F(FaultTest, AStoppedTextWorkerEndsItsStreamUnavailableAndServeReplacesIt) {
  const pid_t worker = Only("gemma3n-text-worker");
  // A long generation, with no deadline of its own: only the liveness
  // check can end it once the worker stops.
  grpc::ClientContext ctx;
  auto reader = stub_->Generate(&ctx, testing::RawPrompt("hello", 30000, /*ignore_eos=*/true));
  pb::GenerateResponse first;
  ASSERT_TRUE(reader->Read(&first));
  kill(worker, SIGSTOP);
  std::atomic<bool> ended{false};
  grpc::Status status;
  std::thread drain([&] {
    pb::GenerateResponse r;
    while (reader->Read(&r)) {
    }
    status = reader->Finish();
    ended = true;
  });
  const bool in_time = WaitUntil([&] { return ended.load(); }, 60s);
  if (!in_time) ctx.TryCancel();
  drain.join();
  ASSERT_TRUE(in_time) << "the stream to a stopped worker did not end";
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_NE(status.error_message().find("stopped answering"), std::string::npos) << status.error_message();

  EXPECT_TRUE(WaitUntil([&] { return Replaced("gemma3n-text-worker", worker); }, 60s));
  EXPECT_NE(serve_.Log().find("killing it"), std::string::npos);
  EXPECT_TRUE(WaitUntil([&] { return testing::Call(*stub_, testing::RawPrompt("hello", 2)).status.ok(); }, 60s));
}

TEST_F(FaultTest, AStoppedVisionWorkerFailsImageRequestsFastAndServeReplacesIt) {
  const pid_t vision = Only("gemma3n-vision-worker");
  ASSERT_TRUE(testing::Call(*stub_, ImageChat()).status.ok());  // the gateway's channel to it is up
  kill(vision, SIGSTOP);
  // No deadline of the client's: the request ends because the worker is
  // known to be stuck, not because anyone gave up.
  const testing::Outcome stuck = testing::Call(*stub_, ImageChat(), std::chrono::hours(1));
  EXPECT_EQ(stuck.status.error_code(), grpc::StatusCode::UNAVAILABLE) << stuck.status.error_message();
  EXPECT_NE(stuck.status.error_message().find("vision"), std::string::npos) << stuck.status.error_message();
  // Text alone is not held up by the stuck encoder.
  EXPECT_TRUE(testing::Call(*stub_, testing::RawPrompt("hello", 2)).status.ok());
  EXPECT_TRUE(WaitUntil([&] { return Replaced("gemma3n-vision-worker", vision); }, 60s));
  EXPECT_TRUE(WaitUntil([&] { return testing::Call(*stub_, ImageChat()).status.ok(); }, 60s));
}

TEST_F(FaultTest, AKilledGatewayIsRestartedAndServesAgain) {
  const pid_t gateway = Only("gemma3n-gateway");
  kill(gateway, SIGKILL);
  EXPECT_TRUE(WaitUntil([&] { return Replaced("gemma3n-gateway", gateway); }, 30s));
  EXPECT_TRUE(WaitUntil([&] { return testing::Call(*stub_, testing::RawPrompt("hello", 2)).status.ok(); }, 60s));
}

// SIGKILL of each worker kind in turn, with a text stream running through
// the PLE kill: the stream ends with a status (no hang), serve restarts each,
// service resumes; then SIGTERM of serve leaves no process, no shared-memory
// segment of any PLE service it ran and no socket directory.
TEST_F(FaultTest, EachWorkerKindKilledInTurnIsRestartedAndServeLeavesNothingBehind) {
  std::vector<pid_t> ple_pids;
  for (const std::string binary : {"gemma3n-ple-service", "gemma3n-vision-worker", "gemma3n-audio-worker",
                                   "gemma3n-text-worker"}) {
    SCOPED_TRACE(binary);
    const pid_t victim = Only(binary);
    if (binary == "gemma3n-ple-service") ple_pids.push_back(victim);
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 60s);
    auto reader = stub_->Generate(&ctx, testing::RawPrompt("hello", 30000, /*ignore_eos=*/true));
    pb::GenerateResponse r;
    ASSERT_TRUE(reader->Read(&r));
    kill(victim, SIGKILL);
    if (binary == "gemma3n-ple-service" || binary == "gemma3n-text-worker") {
      const auto start = std::chrono::steady_clock::now();
      while (reader->Read(&r)) {
      }
      const grpc::Status ended = reader->Finish();
      EXPECT_EQ(ended.error_code(), grpc::StatusCode::UNAVAILABLE) << ended.error_message();
      EXPECT_LT(std::chrono::steady_clock::now() - start, 30s) << "the stream outlived its worker";
    } else {
      ctx.TryCancel();  // the text stream does not need the encoder
      while (reader->Read(&r)) {
      }
      reader->Finish();
    }
    ASSERT_TRUE(WaitUntil([&] { return Replaced(binary, victim); }, 60s));
    if (binary == "gemma3n-ple-service") ple_pids.push_back(Only(binary));
    EXPECT_TRUE(WaitUntil([&] { return testing::Call(*stub_, testing::RawPrompt("hello", 2)).status.ok(); }, 60s));
    EXPECT_TRUE(WaitUntil([&] { return testing::Call(*stub_, ImageChat()).status.ok(); }, 60s));
  }

  const std::vector<pid_t> children = testing::ChildrenMatching(serve_.pid(), "gemma3n-");
  serve_.Signal(SIGTERM);
  ASSERT_NE(serve_.Wait(30s), -1);
  for (pid_t child : children) EXPECT_NE(kill(child, 0), 0) << "pid " << child << " outlived serve";
  for (const auto& e : std::filesystem::directory_iterator("/dev/shm")) {
    for (pid_t ple : ple_pids) {
      EXPECT_NE(e.path().filename().string().rfind("gemma3n-ple-" + std::to_string(ple) + "-", 0), 0u)
          << e.path() << " left behind";
    }
  }
  EXPECT_FALSE(std::filesystem::exists(run_dir_ + "/gateway.sock"));
}

}  // namespace
}  // namespace gemma3n
