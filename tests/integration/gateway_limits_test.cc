// The gateway in front of hand-started workers, as a deployment would run it:
// several text-worker instances with one dead, no worker of a needed kind,
// concurrency and queue limits, request size, deadlines.
#include <signal.h>

#include <thread>

#include "common/rpc/server.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/client.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;
using testing::ChildProcess;
using testing::WaitUntil;
using namespace std::chrono_literals;

pb::GenerateRequest Raw(const std::string& text, int max_new) { return testing::RawPrompt(text, max_new, true); }

grpc::Status Generate(pb::Gemma::Stub& stub, const pb::GenerateRequest& req,
                      std::chrono::milliseconds deadline = 20s) {
  return testing::Call(stub, req, deadline).status;
}

// A PLE service and one text worker; each test adds a gateway of its own.
class GatewayLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("gateway-limits");
    const std::string bin = testing::BinDir(), model = testing::TinyModelDir();
    const std::string ple = "unix:" + dir_ + "/ple.sock";
    text_ = "unix:" + dir_ + "/text.sock";
    ple_ = ChildProcess({bin + "/gemma3n-ple-service", "--model", model, "--listen", ple}, dir_ + "/ple.log");
    worker_ = ChildProcess({bin + "/gemma3n-text-worker", "--model", model, "--listen", text_, "--ple", ple,
                            "--threads", "1"},
                           dir_ + "/text.log");
    worker_stub_ = ipb::TextWorker::NewStub(MakeChannel(text_));
    ASSERT_TRUE(WaitUntil([&] { return ActiveSequences() >= 0; }, 30s)) << worker_.Log();
  }
  void StartGateway(std::vector<std::string> flags) {
    addr_ = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
    std::vector<std::string> argv = {testing::BinDir() + "/gemma3n-gateway", "--model", testing::TinyModelDir(),
                                     "--listen", addr_};
    argv.insert(argv.end(), flags.begin(), flags.end());
    gateway_ = ChildProcess(argv, dir_ + "/gateway.log");
    stub_ = pb::Gemma::NewStub(MakeChannel(addr_));
    auto channel = MakeChannel(addr_);
    ASSERT_TRUE(channel->WaitForConnected(std::chrono::system_clock::now() + 20s)) << gateway_.Log();
  }
  // A gateway of one slot and no queue, and a long generation that holds it.
  void FillTheOnlySlot() {
    ASSERT_NO_FATAL_FAILURE(StartGateway({"--text-worker", text_, "--max-concurrent", "1", "--max-queued", "0"}));
    holder_ctx_ = std::make_unique<grpc::ClientContext>();
    holder_ = stub_->Generate(holder_ctx_.get(), Raw("Once upon a time", 20000));
    pb::GenerateResponse r;
    ASSERT_TRUE(holder_->Read(&r));  // it holds the only slot now
  }
  void FreeTheSlot() {
    holder_ctx_->TryCancel();
    holder_->Finish();
  }
  int ActiveSequences() {
    ipb::TextWorkerInfo info;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    return worker_stub_->GetInfo(&ctx, ipb::TextWorkerInfoRequest(), &info).ok() ? info.active_sequences() : -1;
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "%s\n%s\n", worker_.Log().c_str(), gateway_.Log().c_str());
  }

  std::string dir_, text_, addr_;
  ChildProcess ple_, worker_, gateway_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
  std::unique_ptr<ipb::TextWorker::Stub> worker_stub_;
  std::unique_ptr<grpc::ClientContext> holder_ctx_;
  std::unique_ptr<grpc::ClientReader<pb::GenerateResponse>> holder_;
};

TEST_F(GatewayLimitsTest, ADeadInstanceIsSkipped) {
  StartGateway({"--text-worker", "unix:" + dir_ + "/nobody.sock", "--text-worker", text_});
  for (int i = 0; i < 4; ++i) {
    const grpc::Status s = Generate(*stub_, Raw("hello", 3));
    EXPECT_TRUE(s.ok()) << i << ": " << s.error_message();
  }
  pb::ModelInfo info;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->GetModelInfo(&ctx, pb::GetModelInfoRequest(), &info).ok());
  int up = 0, down = 0;
  for (const auto& w : info.workers()) {
    if (w.kind() == "text") (w.healthy() ? up : down) += 1;
  }
  EXPECT_EQ(up, 1);
  EXPECT_EQ(down, 1);
}

TEST_F(GatewayLimitsTest, NoWorkerOfANeededKindFailsFastNamingIt) {
  StartGateway({"--text-worker", "unix:" + dir_ + "/nobody.sock"});
  auto start = std::chrono::steady_clock::now();
  grpc::Status s = Generate(*stub_, Raw("hello", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("text worker"), std::string::npos) << s.error_message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);

  // Media with no encoder configured: UNAVAILABLE naming the kind.
  gateway_ = ChildProcess();
  StartGateway({"--text-worker", text_});
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  user->add_parts()->mutable_image()->set_data("\x89PNG....");
  user->add_parts()->set_text("hi");
  s = Generate(*stub_, req);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("vision worker"), std::string::npos) << s.error_message();
}

TEST_F(GatewayLimitsTest, AFullServerIsResourceExhausted) {
  ASSERT_NO_FATAL_FAILURE(FillTheOnlySlot());
  const grpc::Status s = Generate(*stub_, Raw("hello", 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  FreeTheSlot();
  EXPECT_TRUE(WaitUntil([&] { return Generate(*stub_, Raw("hello", 3)).ok(); }, 5s));
}

// A CountTokens request with one (unencodable) image and some text.
pb::CountTokensRequest CountWithImage() {
  pb::CountTokensRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  user->add_parts()->mutable_image()->set_data("\x89PNG....");
  user->add_parts()->set_text("what is this?");
  return req;
}

grpc::Status Count(pb::Gemma::Stub& stub, const pb::CountTokensRequest& req) {
  pb::CountTokensResponse counted;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  return stub.CountTokens(&ctx, req, &counted);
}

// Media to encode takes an admission slot, as in Generate; counting text only
// (tokenizing, no encoder) does not.
TEST_F(GatewayLimitsTest, CountingTokensOfMediaTakesASlotButTextOnlyDoesNot) {
  ASSERT_NO_FATAL_FAILURE(FillTheOnlySlot());
  grpc::Status s = Count(*stub_, CountWithImage());
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  pb::CountTokensRequest text_only;
  text_only.set_prompt("hello there");
  s = Count(*stub_, text_only);
  EXPECT_TRUE(s.ok()) << s.error_message();
  FreeTheSlot();
  // With the slot free the image goes on to the encoders (there is none here).
  EXPECT_TRUE(WaitUntil([&] { return Count(*stub_, CountWithImage()).error_code() == grpc::StatusCode::UNAVAILABLE; },
                        5s));
}

// Stop strings are capped in number and length, refused before the request
// waits for a slot.
TEST_F(GatewayLimitsTest, TooManyOrTooLongStopStringsAreRefusedNamingTheLimit) {
  pb::GenerateRequest many = Raw("hello", 3);
  for (int i = 0; i < 17; ++i) many.mutable_config()->add_stop("stop" + std::to_string(i));
  pb::GenerateRequest one_long = Raw("hello", 3);
  one_long.mutable_config()->add_stop("ok");
  one_long.mutable_config()->add_stop(std::string(257, 'x'));
  pb::GenerateRequest at_the_limits = Raw("hello", 3);
  for (int i = 0; i < 16; ++i) at_the_limits.mutable_config()->add_stop(std::string(255, 'x') + char('a' + i));

  ASSERT_NO_FATAL_FAILURE(FillTheOnlySlot());
  grpc::Status s = Generate(*stub_, many);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("at most 16 stop strings"), std::string::npos) << s.error_message();
  s = Generate(*stub_, one_long);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << s.error_message();
  EXPECT_NE(s.error_message().find("stop[1]"), std::string::npos) << s.error_message();
  EXPECT_NE(s.error_message().find("at most 256 bytes"), std::string::npos) << s.error_message();
  FreeTheSlot();
  EXPECT_TRUE(WaitUntil([&] { return Generate(*stub_, at_the_limits).ok(); }, 5s));
}

TEST_F(GatewayLimitsTest, TooLargeARequestIsRefused) {
  StartGateway({"--text-worker", text_, "--max-request-mb", "1"});
  const grpc::Status s = Generate(*stub_, Raw(std::string(2 << 20, 'a'), 3));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_TRUE(Generate(*stub_, Raw("hello", 3)).ok());
}

TEST_F(GatewayLimitsTest, AnExpiredDeadlineEndsTheSequenceOnTheWorker) {
  StartGateway({"--text-worker", text_});
  const grpc::Status s = Generate(*stub_, Raw("Once upon a time", 30000), 500ms);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_TRUE(WaitUntil([&] { return ActiveSequences() == 0; }, 2s));
}

}  // namespace
}  // namespace gemma3n
