// WorkerPool over real in-process gRPC servers on unix sockets: round-robin
// over the instances that are up, dead and excluded ones skipped, an
// instance that stops is passed over from then on, and UNAVAILABLE says
// what was tried.
#include "gateway/worker_pool.h"

#include <chrono>
#include <set>
#include <thread>

#include "common/rpc/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/socket_dir.h"

namespace gemma3n {
namespace {

using ::testing::HasSubstr;
using testing::SocketDir;
using namespace std::chrono_literals;

std::unique_ptr<grpc::Server> Serve(const std::string& address) {
  ServerOptions options;
  options.listen = address;
  auto server = StartServer(options);  // the health service only: enough to connect
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? *std::move(server) : nullptr;
}

TEST(WorkerPoolTest, PicksRoundRobinAmongTheInstancesThatAreUp) {
  SocketDir dir;
  auto a = Serve(dir.Address("a"));
  auto b = Serve(dir.Address("b"));
  const WorkerPool pool("text", {dir.Address("a"), dir.Address("dead"), dir.Address("b")}, 100ms);
  std::multiset<std::string> picked;
  for (int i = 0; i < 6; ++i) {
    auto w = pool.Pick();
    ASSERT_TRUE(w.ok()) << w.status();
    picked.insert((*w)->address);
  }
  EXPECT_EQ(picked.count(dir.Address("dead")), 0u);
  EXPECT_GE(picked.count(dir.Address("a")), 2u);
  EXPECT_GE(picked.count(dir.Address("b")), 2u);
}

TEST(WorkerPoolTest, SkipsInstancesThatFailedThisRequestAndSaysWhatItTried) {
  SocketDir dir;
  auto a = Serve(dir.Address("a"));
  const WorkerPool pool("text", {dir.Address("a"), dir.Address("dead")}, 100ms);
  auto first = pool.Pick();
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ((*first)->address, dir.Address("a"));
  auto none = pool.Pick({*first});
  EXPECT_EQ(none.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(none.status().message(), HasSubstr("no text worker is up"));
  EXPECT_THAT(none.status().message(), HasSubstr(dir.Address("a") + " (failed)"));
  EXPECT_THAT(none.status().message(), HasSubstr(dir.Address("dead") + " (down)"));
}

TEST(WorkerPoolTest, AnInstanceThatStopsIsPassedOver) {
  SocketDir dir;
  auto a = Serve(dir.Address("a"));
  auto b = Serve(dir.Address("b"));
  const WorkerPool pool("vision", {dir.Address("a"), dir.Address("b")}, 100ms);
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(pool.Pick().ok());  // both connected
  a->Shutdown(std::chrono::system_clock::now());
  a.reset();
  const WorkerInstance& stopped = pool.instances()[0];
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (WorkerPool::IsUp(stopped, 20ms) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(WorkerPool::IsUp(stopped, 20ms)) << "the stopped server still looks up after 5 s";
  for (int i = 0; i < 4; ++i) {
    auto w = pool.Pick();
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ((*w)->address, dir.Address("b"));
  }
}

TEST(WorkerPoolTest, WithoutInstancesEveryPickSaysNoneIsConfigured) {
  const WorkerPool pool("audio", {});
  EXPECT_FALSE(pool.configured());
  auto w = pool.Pick();
  EXPECT_EQ(w.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(w.status().message(), HasSubstr("no audio worker is configured"));
}

}  // namespace
}  // namespace gemma3n
