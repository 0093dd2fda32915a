// The processes started one by one, as a deployment would: a PLE service
// that dies makes requests fail with UNAVAILABLE (no hang), and once it is
// back the text worker re-attaches and requests succeed again.
#include <signal.h>

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

grpc::Status Generate(pb::Gemma::Stub& stub, std::chrono::seconds deadline) {
  return testing::Call(stub, testing::RawPrompt("hello there", 4), deadline).status;
}

TEST(PleRecoveryTest, DeadPleServiceIsUnavailableThenRecovers) {
  const std::string dir = testing::TempDir("ple-recovery");
  const std::string bin = testing::BinDir(), model = testing::TinyModelDir();
  const std::string ple = "unix:" + dir + "/ple.sock", text = "unix:" + dir + "/text.sock";
  const std::string addr = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  auto start_ple = [&] {
    return ChildProcess({bin + "/gemma3n-ple-service", "--model", model, "--listen", ple}, dir + "/ple.log");
  };
  ChildProcess ple_service = start_ple();
  ChildProcess worker({bin + "/gemma3n-text-worker", "--model", model, "--listen", text, "--ple", ple, "--threads", "1"},
                      dir + "/text.log");
  ChildProcess gateway({bin + "/gemma3n-gateway", "--model", model, "--listen", addr, "--text-worker", text},
                       dir + "/gateway.log");
  auto stub = pb::Gemma::NewStub(MakeChannel(addr));
  ASSERT_TRUE(WaitUntil([&] { return Generate(*stub, 5s).ok(); }, 30s)) << worker.Log() << gateway.Log();

  ple_service.Signal(SIGKILL);
  ple_service.Wait(5s);
  const auto start = std::chrono::steady_clock::now();
  const grpc::Status down = Generate(*stub, 20s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(down.error_code(), grpc::StatusCode::UNAVAILABLE) << down.error_message();
  EXPECT_NE(down.error_message().find("PLE"), std::string::npos) << down.error_message();
  EXPECT_LT(seconds, 5.0) << "a dead PLE service must fail fast, not hang";

  ple_service = start_ple();
  EXPECT_TRUE(WaitUntil([&] { return Generate(*stub, 5s).ok(); }, 20s)) << worker.Log();
}

}  // namespace
}  // namespace gemma3n
