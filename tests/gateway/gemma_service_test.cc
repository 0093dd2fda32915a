// GemmaService in process, in front of scripted text workers (in-process
// gRPC servers on unix sockets): a worker that is unavailable before its
// first message is replaced by the next one that is up, one that fails
// later is not, a stop string split across tokens ends the reply, and the
// worker is asked for what the request says.
#include "gateway/gemma_service.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <future>
#include <mutex>

#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

#include "common/rpc/liveness.h"
#include "common/rpc/server.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/gateway/socket_dir.h"
#include "tests/gateway/stop_across_tokens.h"
#include "tests/gateway/tiny_model.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using testing::SocketDir;
using testing::StopAcrossTokens;
using namespace std::chrono_literals;

// Answers every Generate with `refusal` (when not OK) or with `script`, one
// message after the other, then `end`.
class ScriptedTextWorker final : public ipb::TextWorker::Service {
 public:
  ScriptedTextWorker(std::vector<ipb::TextGenerateResponse> script, grpc::Status end = grpc::Status::OK,
                     grpc::Status refusal = grpc::Status::OK)
      : script_(std::move(script)), end_(std::move(end)), refusal_(std::move(refusal)) {}

  grpc::Status Generate(grpc::ServerContext* context, const ipb::TextGenerateRequest* request,
                        grpc::ServerWriter<ipb::TextGenerateResponse>* writer) override {
    calls_ += 1;
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_request_ = *request;
    }
    if (!refusal_.ok()) return refusal_;
    for (const ipb::TextGenerateResponse& m : script_) {
      if (context->IsCancelled() || !writer->Write(m)) return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    return end_;
  }
  int calls() const { return calls_; }
  ipb::TextGenerateRequest last_request() const {
    std::lock_guard<std::mutex> lock(mu_);
    return last_request_;
  }

 private:
  const std::vector<ipb::TextGenerateResponse> script_;
  const grpc::Status end_, refusal_;
  std::atomic<int> calls_{0};
  mutable std::mutex mu_;
  ipb::TextGenerateRequest last_request_;
};

// One token per message; the last one carries `finish`.
std::vector<ipb::TextGenerateResponse> TokenByToken(const std::vector<int>& ids, ipb::TextFinish finish) {
  std::vector<ipb::TextGenerateResponse> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    ipb::TextGenerateResponse m;
    m.add_token_ids(ids[i]);
    if (i + 1 == ids.size()) m.set_finish(finish);
    out.push_back(m);
  }
  return out;
}

struct Reply {
  grpc::Status status;
  std::string text;
  std::vector<int> token_ids;
  pb::FinishReason finish = pb::FINISH_REASON_UNSPECIFIED;
  pb::Usage usage;
};

class GemmaServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    config_ = new ModelConfig(testing::TinyModelConfig());
    auto t = Tokenizer::Load(GEMMA3N_REAL_TOKENIZER);  // pieces of several characters
    ASSERT_TRUE(t.ok()) << t.status();
    tokenizer_ = std::move(t).value().release();
  }

  void Serve(const std::string& name, grpc::Service* service) {
    ServerOptions options;
    options.listen = dir_.Address(name);
    if (service) options.services = {service};
    auto server = StartServer(options);
    ASSERT_TRUE(server.ok()) << server.status();
    servers_.push_back(*std::move(server));
  }
  // A scripted text worker that lives until every server has stopped: a
  // server outlives the test body, and a handler may still be running in it
  // when the reply has reached the client (TSan saw the worker destroyed
  // under a running Generate).
  ScriptedTextWorker& Worker(std::vector<ipb::TextGenerateResponse> script, grpc::Status end = grpc::Status::OK,
                             grpc::Status refusal = grpc::Status::OK) {
    workers_.push_back(std::make_unique<ScriptedTextWorker>(std::move(script), std::move(end), std::move(refusal)));
    return *workers_.back();
  }
  // The gateway over text workers at these socket names (nothing need listen).
  void StartGateway(const std::vector<std::string>& workers) {
    std::vector<std::string> addresses;
    for (const std::string& w : workers) addresses.push_back(dir_.Address(w));
    text_ = std::make_unique<WorkerPool>("text", addresses, 100ms);
    GatewayOptions options;
    options.context_limit = 64;
    options.default_max_new_tokens = 16;
    options.api_keys = api_keys_;
    service_ = std::make_unique<GemmaService>(*config_, *tokenizer_, *text_, no_vision_, no_audio_, admission_,
                                              options);
    Serve("gateway", service_.get());
    stub_ = pb::Gemma::NewStub(MakeChannel(dir_.Address("gateway")));
  }
  Reply Generate(const pb::GenerateRequest& request, const std::string& authorization = "") {
    grpc::ClientContext ctx;
    if (!authorization.empty()) ctx.AddMetadata("authorization", authorization);
    ctx.set_deadline(std::chrono::system_clock::now() + 20s);
    auto reader = stub_->Generate(&ctx, request);
    Reply r;
    pb::GenerateResponse m;
    while (reader->Read(&m)) {
      r.text += m.text();
      r.token_ids.insert(r.token_ids.end(), m.token_ids().begin(), m.token_ids().end());
      if (m.finish_reason() != pb::FINISH_REASON_UNSPECIFIED) r.finish = m.finish_reason();
      if (m.has_usage()) r.usage = m.usage();
    }
    r.status = reader->Finish();
    return r;
  }
  static pb::GenerateRequest RawPrompt(const std::string& text) {
    pb::GenerateRequest r;
    r.set_prompt(text);
    return r;
  }
  std::vector<int> ReplyIds() const { return tokenizer_->Encode("Hello world, how are you?", false); }

  static ModelConfig* config_;
  static Tokenizer* tokenizer_;
  SocketDir dir_;
  const WorkerPool no_vision_{"vision", {}};
  const WorkerPool no_audio_{"audio", {}};
  Admission admission_{4, 4};
  std::unique_ptr<WorkerPool> text_;
  ApiKeys api_keys_;
  std::unique_ptr<GemmaService> service_;
  std::vector<std::unique_ptr<ScriptedTextWorker>> workers_;  // before servers_: destroyed after them
  std::vector<std::unique_ptr<grpc::Server>> servers_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
};
ModelConfig* GemmaServiceTest::config_ = nullptr;
Tokenizer* GemmaServiceTest::tokenizer_ = nullptr;

TEST_F(GemmaServiceTest, AWorkerUnavailableBeforeItsFirstMessageIsReplacedByTheNextUp) {
  ScriptedTextWorker& refusing = Worker({}, grpc::Status::OK, grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away"));
  ScriptedTextWorker& good = Worker(TokenByToken(ReplyIds(), ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("refusing", &refusing);
  Serve("good", &good);
  StartGateway({"refusing", "dead", "good"});  // round-robin starts with the first
  const Reply r = Generate(RawPrompt("Hi"));
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.text, *tokenizer_->Decode(ReplyIds()));
  EXPECT_THAT(r.token_ids, ElementsAreArray(ReplyIds()));
  EXPECT_EQ(r.finish, pb::FINISH_REASON_MAX_TOKENS);
  EXPECT_EQ(r.usage.generated_tokens(), static_cast<int>(ReplyIds().size()));
  EXPECT_EQ(refusing.calls(), 1);
  EXPECT_EQ(good.calls(), 1);
  // What the worker was asked: the prompt with <bos>, the default token
  // limit, the model's end-of-sequence ids as stop ids.
  const ipb::TextGenerateRequest asked = good.last_request();
  EXPECT_THAT(asked.prompt_ids(), ElementsAreArray(tokenizer_->Encode("Hi", true)));
  EXPECT_EQ(asked.max_new_tokens(), 16);
  EXPECT_THAT(asked.stop_ids(), ElementsAreArray(config_->eos_token_ids));
  EXPECT_EQ(r.usage.prompt_tokens(), asked.prompt_ids_size());
}

TEST_F(GemmaServiceTest, WhenNoWorkerCanServeTheCallIsUnavailableWithTheLastReason) {
  ScriptedTextWorker& refusing = Worker({}, grpc::Status::OK, grpc::Status(grpc::StatusCode::UNAVAILABLE, "going away"));
  Serve("refusing", &refusing);
  StartGateway({"refusing", "dead"});
  const Reply r = Generate(RawPrompt("Hi"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(r.status.error_message(), HasSubstr("text worker " + dir_.Address("refusing") + ": going away"));
  EXPECT_EQ(refusing.calls(), 1);
}

TEST_F(GemmaServiceTest, AWorkerThatFailsAfterItsFirstTokensIsNotRetried) {
  const std::vector<int> ids = ReplyIds();
  ScriptedTextWorker& failing = Worker(TokenByToken({ids[0], ids[1]}, ipb::TEXT_FINISH_NONE),
                             grpc::Status(grpc::StatusCode::UNAVAILABLE, "the PLE service is down"));
  ScriptedTextWorker& good = Worker(TokenByToken(ids, ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("failing", &failing);
  Serve("good", &good);
  StartGateway({"failing", "good"});
  const Reply r = Generate(RawPrompt("Hi"));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(r.status.error_message(), HasSubstr("the PLE service is down"));
  EXPECT_THAT(r.token_ids, ElementsAreArray({ids[0], ids[1]}));  // what was streamed stays streamed
  EXPECT_EQ(good.calls(), 0);
}

TEST_F(GemmaServiceTest, AStopStringSplitAcrossTokensEndsTheReply) {
  const std::vector<int> ids = ReplyIds();
  const std::optional<StopAcrossTokens> stop = StopAcrossTokens::Find(*tokenizer_, ids);
  ASSERT_TRUE(stop.has_value()) << "no token boundary with two characters on each side";
  ScriptedTextWorker& good = Worker(TokenByToken(ids, ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("good", &good);
  StartGateway({"good"});
  pb::GenerateRequest request = RawPrompt("Hi");
  request.mutable_config()->add_stop(stop->stop);
  const Reply r = Generate(request);
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.text, stop->text_before);
  EXPECT_EQ(r.finish, pb::FINISH_REASON_STOP_STRING);
  EXPECT_EQ(r.usage.generated_tokens(), stop->tokens_until_complete);
}

TEST_F(GemmaServiceTest, APromptThatFillsTheContextIsRefusedBeforeAnyWorkerIsAsked) {
  ScriptedTextWorker& good = Worker(TokenByToken(ReplyIds(), ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("good", &good);
  StartGateway({"good"});
  std::string long_prompt;
  for (int i = 0; i < 80; ++i) long_prompt += "word ";
  const Reply r = Generate(RawPrompt(long_prompt));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(r.status.error_message(), HasSubstr("the context holds 64"));
  EXPECT_EQ(good.calls(), 0);
}

// --api-key-file: every call needs "authorization: Bearer KEY" with one of
// the keys; the health service stays open.
TEST_F(GemmaServiceTest, WithApiKeysACallNeedsOneOfThemAndHealthStaysOpen) {
  ScriptedTextWorker& good = Worker(TokenByToken(ReplyIds(), ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("good", &good);
  api_keys_ = ApiKeys::Of({"first-key", "second-key"});
  StartGateway({"good"});
  const Reply none = Generate(RawPrompt("hi"));
  EXPECT_EQ(none.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(none.status.error_message(), HasSubstr("authorization: Bearer KEY"));
  EXPECT_EQ(Generate(RawPrompt("hi"), "Bearer wrong-key").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Generate(RawPrompt("hi"), "Bearer first-key-and-more").status.error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Generate(RawPrompt("hi"), "second-key").status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(good.calls(), 0);
  EXPECT_TRUE(Generate(RawPrompt("hi"), "Bearer second-key").status.ok());
  EXPECT_TRUE(Generate(RawPrompt("hi"), "bearer first-key").status.ok());
  grpc::ClientContext ctx;
  pb::ModelInfo info;
  EXPECT_EQ(stub_->GetModelInfo(&ctx, pb::GetModelInfoRequest(), &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(ProbeLiveness(dir_.Address("gateway"), MakeChannel(dir_.Address("gateway")), 2s), Liveness::kLive);
}

TEST(ApiKeysTest, AKeyFileNeedsAKeyAndSkipsCommentsAndBlanks) {
  const std::string path = ::testing::TempDir() + "/keys-" + std::to_string(getpid());
  std::ofstream(path) << "# the CI key\n\n  k-123  \n";
  absl::StatusOr<ApiKeys> keys = ApiKeys::FromFile(path);
  ASSERT_TRUE(keys.ok()) << keys.status();
  EXPECT_TRUE(keys->Accepts("Bearer k-123"));
  EXPECT_FALSE(keys->Accepts("Bearer # the CI key"));
  EXPECT_FALSE(keys->Accepts("Bearer "));
  std::ofstream(path) << "# nothing\n";
  EXPECT_EQ(ApiKeys::FromFile(path).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ApiKeys::FromFile(path + ".missing").status().code(), absl::StatusCode::kNotFound);
  std::remove(path.c_str());
}

// Text that cannot fit is refused from its size, before it is tokenized
// (16 MB of text used to be tokenized for 35 s first).
TEST_F(GemmaServiceTest, TextThatCannotFitIsRefusedFromItsSizeBeforeTokenizing) {
  ScriptedTextWorker& good = Worker(TokenByToken(ReplyIds(), ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("good", &good);
  StartGateway({"good"});
  const Reply r = Generate(RawPrompt(std::string(1 << 20, 'a')));
  EXPECT_EQ(r.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(r.status.error_message(), HasSubstr("1048576 bytes of text take at least"));
  EXPECT_THAT(r.status.error_message(), HasSubstr("the context holds 64"));
  EXPECT_EQ(good.calls(), 0);
}

// Media that cannot fit are refused from their count, before any encoder is
// asked (here there is none: asking one would be UNAVAILABLE).
TEST_F(GemmaServiceTest, MediaThatCannotFitAreRefusedBeforeAnyEncoderIsAsked) {
  ScriptedTextWorker& good = Worker(TokenByToken(ReplyIds(), ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("good", &good);
  StartGateway({"good"});  // context 64; the tiny model's image takes 64 soft tokens
  pb::GenerateRequest r;
  pb::Message* user = r.add_messages();
  user->set_role("user");
  user->add_parts()->mutable_image()->set_data("not decoded: refused before");
  user->add_parts()->set_text("What is this?");
  const Reply reply = Generate(r);
  EXPECT_EQ(reply.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << reply.status.error_message();
  EXPECT_THAT(reply.status.error_message(), HasSubstr("1 image(s), 0 audio clip(s) and 13 bytes of text take at least"));
  EXPECT_EQ(good.calls(), 0);
}

// Invalid UTF-8 in a proto3 string field, as any client can send it: the
// request serialized with a placeholder, whose bytes are then swapped on the
// wire (same length, so the framing holds).
grpc::Status CallWithBytes(const std::string& address, const std::string& method, std::string wire,
                           const std::string& placeholder, const std::string& bytes) {
  const size_t at = wire.find(placeholder);
  EXPECT_NE(at, std::string::npos);
  EXPECT_EQ(placeholder.size(), bytes.size());
  if (at != std::string::npos) wire.replace(at, placeholder.size(), bytes);
  grpc::Slice slice(wire);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::GenericStub stub(MakeChannel(address));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  std::promise<grpc::Status> done;
  stub.UnaryCall(&ctx, method, grpc::StubOptions(), &request, &response,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  return done.get_future().get();
}

// Protobuf's parser refuses invalid UTF-8 in a proto3 string before
// GemmaService runs; the public API's parsing traits (proto/
// public_request_traits.h) make that INVALID_ARGUMENT naming the field (gRPC's
// own say INTERNAL with no message). Nothing reaches a worker.
TEST_F(GemmaServiceTest, InvalidUtf8OverTheWireIsInvalidArgumentNamingTheField) {
  ScriptedTextWorker& good = Worker(TokenByToken(ReplyIds(), ipb::TEXT_FINISH_MAX_TOKENS));
  Serve("good", &good);
  StartGateway({"good"});
  const std::string gateway = dir_.Address("gateway");
  auto expect_refused = [](const grpc::Status& status, const std::string& path) {
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << path << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(path + " is not valid UTF-8")) << status.error_message();
  };
  pb::GenerateRequest request;
  pb::Message* system = request.add_messages();
  system->set_role("system");
  system->add_parts()->set_text("be brief");
  pb::Message* m = request.add_messages();
  m->set_role("user");
  m->add_parts()->set_text("hello");
  m->add_parts()->set_text("PLACEHOLDER");
  const std::string wire = request.SerializeAsString();
  for (const std::string method : {"/gemma3n.v1.Gemma/CountTokens", "/gemma3n.v1.Gemma/Generate"}) {
    expect_refused(CallWithBytes(gateway, method, wire, "PLACEHOLDER", "bad \xC3\x28 utf8"),
                   "messages[1].parts[1].text");
  }
  expect_refused(CallWithBytes(gateway, "/gemma3n.v1.Gemma/Generate", RawPrompt("PLACEHOLDER").SerializeAsString(),
                               "PLACEHOLDER", "bad \xFF\xFE utf8"),
                 "prompt");

  pb::GenerateRequest with_role = request;
  with_role.mutable_messages(1)->set_role("ROLE");
  expect_refused(CallWithBytes(gateway, "/gemma3n.v1.Gemma/Generate", with_role.SerializeAsString(), "ROLE", "\xED\xA0\x80u"),
                 "messages[1].role");  // a UTF-16 surrogate, encoded
  pb::GenerateRequest with_stop = RawPrompt("Hi");
  with_stop.mutable_config()->add_stop("ok");
  with_stop.mutable_config()->add_stop("STOP");
  expect_refused(CallWithBytes(gateway, "/gemma3n.v1.Gemma/Generate", with_stop.SerializeAsString(), "STOP", "s\xC0\xAFp"),
                 "config.stop[1]");  // an overlong "/"

  // Bytes that are not a GenerateRequest at all: INVALID_ARGUMENT too.
  const grpc::Status garbage =
      CallWithBytes(gateway, "/gemma3n.v1.Gemma/Generate", "\x0a\xff\xff\xff\xff\x0fPAD", "PAD", "PAD");
  EXPECT_EQ(garbage.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << garbage.error_message();
  EXPECT_THAT(garbage.error_message(), HasSubstr("not a valid gemma3n.v1.GenerateRequest"));
  EXPECT_EQ(good.calls(), 0);

  // The gateway keeps serving.
  EXPECT_TRUE(Generate(RawPrompt("Hi")).status.ok());
}

}  // namespace
}  // namespace gemma3n
