// WorkerPool over real in-process gRPC servers on unix sockets: round-robin
// over the instances that are up, dead and excluded ones skipped, an
// instance that stops is passed over from then on, and UNAVAILABLE says
// what was tried.
#include "gateway/worker_pool.h"

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "common/rpc/server.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "grpcpp/generic/generic_stub.h"
#include "tests/gateway/socket_dir.h"
#include "tests/support/frozen_socket.h"

namespace gemma3n {
namespace {

using ::testing::HasSubstr;
using testing::SocketDir;
using namespace std::chrono_literals;

bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (!done() && std::chrono::steady_clock::now() < end) std::this_thread::sleep_for(10ms);
  return done();
}

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

TEST(WorkerPoolTest, AHungInstanceIsPassedOverAndItsCallsInFlightAreCutOff) {
  SocketDir dir;
  auto live = Serve(dir.Address("live"));
  testing::FrozenSocket frozen(dir.Address("frozen"));
  WorkerPool pool("text", {dir.Address("frozen"), dir.Address("live")}, 100ms);
  const WorkerInstance& hung = pool.instances()[0];
  // A call to the frozen instance, waiting with no deadline of its own (as a
  // call on a connection made before the worker stopped waits).
  grpc::ClientContext call;
  call.set_wait_for_ready(true);
  std::atomic<bool> ended{false};
  grpc::Status call_status;
  std::thread caller([&] {
    const WorkerCall tracked(hung, &call);
    grpc::GenericStub stub(hung.channel);
    grpc::CompletionQueue cq;
    grpc::Slice empty;
    auto rpc = stub.PrepareUnaryCall(&call, "/grpc.health.v1.Health/Check", grpc::ByteBuffer(&empty, 1), &cq);
    rpc->StartCall();
    grpc::ByteBuffer response;
    rpc->Finish(&response, &call_status, nullptr);
    void* tag;
    bool ok;
    cq.Next(&tag, &ok);
    EXPECT_TRUE(tracked.cut_off());
    ended = true;
  });
  LivenessPolicy policy;
  policy.interval = 20ms;
  policy.deadline = 200ms;
  policy.probes_to_declare_hung = 2;
  pool.StartLivenessMonitor(policy);
  EXPECT_TRUE(WaitFor([&] { return hung.health->hung(); }, 10s));
  EXPECT_TRUE(WaitFor([&] { return ended.load(); }, 10s)) << "the call in flight was not cut off";
  if (!ended) call.TryCancel();  // so the test ends even then
  caller.join();
  EXPECT_EQ(call_status.error_code(), grpc::StatusCode::CANCELLED);
  for (int i = 0; i < 4; ++i) {
    auto w = pool.Pick();
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ((*w)->address, dir.Address("live"));
  }
  live.reset();
  auto none = pool.Pick();
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(none.status().message(), HasSubstr(dir.Address("frozen") + " (not answering)"));
}

}  // namespace
}  // namespace gemma3n
