// What `gemma3n serve` hands on to its gateway: the limits (a queue that
// waits, then serves, and refuses when full), TLS and API keys (serve's own
// checks of the gateway still see it ready), and a flag nobody knows refused
// by name.
#include <sys/wait.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/rpc/server.h"
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

// `gemma3n serve` on the tiny model, text only, with `flags`.
ChildProcess StartServe(const std::string& dir, const std::string& listen, std::vector<std::string> flags) {
  std::vector<std::string> argv = {testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(),
                                   "--listen", listen, "--run-dir", dir + "/run", "--threads", "1",
                                   "--no-vision", "--no-audio"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  return ChildProcess(argv, dir + "/serve.log");
}

bool Ready(const ChildProcess& serve) { return serve.Log().find("gemma3n serve: ready") != std::string::npos; }

pb::ModelInfo Info(pb::Gemma::Stub& stub) {
  pb::ModelInfo info;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 5s);
  EXPECT_TRUE(stub.GetModelInfo(&ctx, pb::GetModelInfoRequest(), &info).ok());
  return info;
}

TEST(ServeFlagsTest, TheQueueLimitsReachTheGateway) {
  const std::string dir = testing::TempDir("serve-queue");
  const std::string listen = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  ChildProcess serve = StartServe(dir, listen, {"--max-concurrent", "1", "--max-queued", "1"});
  ASSERT_TRUE(WaitUntil([&] { return Ready(serve); }, 60s)) << serve.Log();
  auto stub = pb::Gemma::NewStub(MakeChannel(listen));

  // One request runs ...
  grpc::ClientContext running_ctx;
  auto running = stub->Generate(&running_ctx, testing::RawPrompt("Once upon a time", 20000, true));
  pb::GenerateResponse r;
  ASSERT_TRUE(running->Read(&r));
  // ... one waits for its slot ...
  std::atomic<bool> waiter_done{false};
  testing::Outcome waiter;
  std::thread waiting([&] {
    waiter = testing::Call(*stub, testing::RawPrompt("hello", 2));
    waiter_done = true;
  });
  ASSERT_TRUE(WaitUntil([&] { return Info(*stub).queued_requests() == 1; }, 20s));
  EXPECT_EQ(Info(*stub).running_requests(), 1);
  // ... and one more is refused at once.
  const testing::Outcome refused = testing::Call(*stub, testing::RawPrompt("hello", 2));
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << refused.status.error_message();
  EXPECT_FALSE(waiter_done.load());
  // The slot freed goes to the one waiting.
  running_ctx.TryCancel();
  running->Finish();
  waiting.join();
  EXPECT_TRUE(waiter.status.ok()) << waiter.status.error_message();
  EXPECT_EQ(waiter.ids.size(), 2u);
}

std::string Read(const std::string& path) { return testing::ReadBytes(path); }

TEST(ServeFlagsTest, TlsAndApiKeysReachTheGatewayAndServeStillSeesItReady) {
  const std::string dir = testing::TempDir("serve-tls");
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          dir + "/key.pem -out " + dir + "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  std::ofstream(dir + "/keys.txt") << "sk-first\nsk-second\n";
  const std::string listen = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
  ChildProcess serve = StartServe(dir, listen,
                                  {"--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem", "--api-key-file",
                                   dir + "/keys.txt"});
  ASSERT_TRUE(WaitUntil([&] { return Ready(serve); }, 60s)) << serve.Log();

  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Read(dir + "/cert.pem");
  grpc::ChannelArguments args;
  auto secure = pb::Gemma::NewStub(grpc::CreateCustomChannel(listen, grpc::SslCredentials(ssl), args));
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer sk-second");
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    pb::CountTokensResponse counted;
    pb::CountTokensRequest req;
    req.set_prompt("hello");
    const grpc::Status st = secure->CountTokens(&ctx, req, &counted);
    EXPECT_TRUE(st.ok()) << st.error_message() << serve.Log();
  }
  {
    grpc::ClientContext ctx;  // no key
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    pb::CountTokensResponse counted;
    pb::CountTokensRequest req;
    req.set_prompt("hello");
    EXPECT_EQ(secure->CountTokens(&ctx, req, &counted).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  // Plaintext does not get through the TLS port.
  auto plain = pb::Gemma::NewStub(MakeChannel(listen));
  EXPECT_NE(testing::Call(*plain, testing::RawPrompt("hello", 2), 3s).status.error_code(), grpc::StatusCode::OK);
}

TEST(ServeFlagsTest, AFlagNobodyKnowsIsRefusedByName) {
  const std::string dir = testing::TempDir("serve-unknown");
  ChildProcess serve = StartServe(dir, "127.0.0.1:" + std::to_string(testing::FreeTcpPort()),
                                  {"--max-concurent", "4"});
  const int status = serve.Wait(30s);
  ASSERT_NE(status, -1) << serve.Log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << serve.Log();
  EXPECT_NE(serve.Log().find("--max-concurent"), std::string::npos) << serve.Log();
}

}  // namespace
}  // namespace gemma3n
