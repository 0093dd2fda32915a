// The whole system on the tiny golden model, started by `gemma3n serve` (or
// process by process): greedy generation over gRPC equals the reference, media
// requests build the reference prompts, concurrent streams share the worker,
// cancellation frees the sequence, and failures of processes are survived.
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "gemma3n/v1/gemma.grpc.pb.h"
#include "gtest/gtest.h"
#include "common/rpc/server.h"
#include "common/tokenizer/tokenizer.h"
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

using testing::Call;
using testing::Outcome;
using testing::PromptIds;
using testing::RawPrompt;
using testing::ReadBytes;

std::string DecodeTiny(const std::vector<int>& ids) {
  static auto tokenizer = Tokenizer::LoadFromModelDir(testing::TinyModelDir());
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status();
  auto text = (*tokenizer)->Decode(ids);
  EXPECT_TRUE(text.ok()) << text.status();
  return text.ok() ? *text : "";
}

// `gemma3n serve` on the tiny model, on a free port, sockets in a known dir.
class SystemTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_dir_ = testing::TempDir("system");
    addr_ = "127.0.0.1:" + std::to_string(testing::FreeTcpPort());
    serve_ = ChildProcess({testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen",
                           addr_, "--run-dir", run_dir_, "--max-sequences", "4", "--threads", "1"},
                          run_dir_ + "/serve.log");
    stub_ = pb::Gemma::NewStub(MakeChannel(addr_));
    text_worker_ = ipb::TextWorker::NewStub(MakeChannel("unix:" + run_dir_ + "/text-0.sock"));
    ASSERT_TRUE(WaitUntil([&] { return TextWorkerInfo().ok(); }, 30s)) << serve_.Log();
    ASSERT_TRUE(WaitUntil([&] { return Call(*stub_, RawPrompt("hi", 1)).status.ok(); }, 30s)) << serve_.Log();
  }
  void TearDown() override {
    if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve_.Log().c_str());
  }
  grpc::Status TextWorkerInfo(ipb::TextWorkerInfo* info = nullptr) {
    ipb::TextWorkerInfo local;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    return text_worker_->GetInfo(&ctx, ipb::TextWorkerInfoRequest(), info ? info : &local);
  }

  std::string run_dir_, addr_;
  ChildProcess serve_;
  std::unique_ptr<pb::Gemma::Stub> stub_;
  std::unique_ptr<ipb::TextWorker::Stub> text_worker_;
};

TEST_F(SystemTest, GreedyTextMatchesTheReferenceContinuation) {
  testing::GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::vector<int> prompt = ids.Ids("greedy.prompt_ids");
  const std::vector<int> expected = ids.Ids("greedy.generated_ids");
  // The raw prompt is the text of the golden ids (after <bos>); the gateway
  // must tokenize it back to exactly those ids.
  pb::GenerateRequest req = RawPrompt(DecodeTiny({prompt.begin() + 1, prompt.end()}), 16);
  ASSERT_EQ(PromptIds(*stub_, req), prompt);
  req.mutable_config()->set_ignore_eos(true);
  const Outcome o = Call(*stub_, req);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.ids, expected);
  EXPECT_EQ(o.finish, pb::FINISH_REASON_MAX_TOKENS);
  EXPECT_EQ(o.usage.prompt_tokens(), static_cast<int>(prompt.size()));
  EXPECT_EQ(o.usage.generated_tokens(), 16);
  EXPECT_EQ(o.text, DecodeTiny(expected));
}

TEST_F(SystemTest, ImageChatGivesTheReferenceGreedyTokens) {
  testing::GoldenFile ids("golden/vision/tiny_vision_ids.safetensors");
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  user->add_parts()->mutable_image()->set_data(ReadBytes(testing::TestDataPath("images/image_0.png")));
  user->add_parts()->set_text("Describe this image.");
  req.mutable_config()->set_max_new_tokens(16);
  req.mutable_config()->set_ignore_eos(true);

  EXPECT_EQ(PromptIds(*stub_, req), ids.Ids("image_chat.input_ids"));

  const Outcome o = Call(*stub_, req);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  EXPECT_EQ(o.ids, ids.Ids("image_greedy.generated_ids"));

  // The same prompt for one token: the reply above ran past the tiny
  // model's sliding window (8), so its cache can not serve an earlier
  // position; this one ends at the prompt.
  pb::GenerateRequest one = req;
  one.mutable_config()->set_max_new_tokens(1);
  ASSERT_TRUE(Call(*stub_, one).status.ok());
  // Then again in full: all of the prompt but its last token (the image
  // rows included) comes from the text worker's prefix cache, and the reply
  // is the reference's.
  const Outcome again = Call(*stub_, req);
  ASSERT_TRUE(again.status.ok()) << again.status.error_message();
  EXPECT_EQ(again.ids, ids.Ids("image_greedy.generated_ids"));
  EXPECT_EQ(again.usage.cached_prompt_tokens(), again.usage.prompt_tokens() - 1);
}

TEST_F(SystemTest, AudioChatBuildsTheReferencePromptAndFirstToken) {
  testing::GoldenFile ids("golden/text/golden_ids.safetensors");
  testing::GoldenFile golden("golden/text/golden.safetensors");
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  user->add_parts()->mutable_audio()->set_data(ReadBytes(testing::TestDataPath("audio/audio_0.wav")));
  user->add_parts()->set_text("Transcribe this audio.");
  req.mutable_config()->set_max_new_tokens(1);
  req.mutable_config()->set_ignore_eos(true);

  const std::vector<int> expected_ids = ids.Ids("text_audio_0.input_ids");
  EXPECT_EQ(PromptIds(*stub_, req), expected_ids);

  const std::vector<float> logits = golden.F32("text_audio_0.logits");
  const size_t vocab = logits.size() / expected_ids.size();
  const auto last = logits.begin() + (expected_ids.size() - 1) * vocab;
  const int argmax = static_cast<int>(std::max_element(last, last + vocab) - last);
  const Outcome o = Call(*stub_, req);
  ASSERT_TRUE(o.status.ok()) << o.status.error_message();
  ASSERT_EQ(o.ids.size(), 1u);
  EXPECT_EQ(o.ids[0], argmax);
}

TEST_F(SystemTest, TwoConcurrentStreamsBothProgress) {
  // Two long generations: each must receive tokens while the other is still
  // running (shared decode steps), not one after the other.
  pb::GenerateRequest req = RawPrompt("Once upon a time", 3000);
  req.mutable_config()->set_ignore_eos(true);
  std::atomic<int> tokens[2] = {0, 0};
  std::atomic<bool> done[2] = {false, false};
  std::atomic<int> seen_other_running[2] = {0, 0};
  auto stream = [&](int me) {
    grpc::ClientContext ctx;
    auto reader = stub_->Generate(&ctx, req);
    pb::GenerateResponse r;
    while (reader->Read(&r)) {
      tokens[me] += r.token_ids_size();
      if (tokens[1 - me] > 0 && !done[1 - me]) ++seen_other_running[me];
    }
    done[me] = true;
    EXPECT_TRUE(reader->Finish().ok());
  };
  std::thread a(stream, 0), b(stream, 1);
  a.join();
  b.join();
  EXPECT_EQ(tokens[0], 3000);
  EXPECT_EQ(tokens[1], 3000);
  EXPECT_GT(seen_other_running[0], 10);
  EXPECT_GT(seen_other_running[1], 10);
  ipb::TextWorkerInfo info;
  ASSERT_TRUE(TextWorkerInfo(&info).ok());
  EXPECT_GE(info.max_batch(), 2) << "the two sequences never shared a decode step";
}

TEST_F(SystemTest, CancellationFreesTheSequenceAtOnce) {
  pb::GenerateRequest req = RawPrompt("Once upon a time", 30000);
  req.mutable_config()->set_ignore_eos(true);
  grpc::ClientContext ctx;
  auto reader = stub_->Generate(&ctx, req);
  pb::GenerateResponse r;
  int got = 0;
  while (got < 20 && reader->Read(&r)) got += r.token_ids_size();
  ipb::TextWorkerInfo info;
  ASSERT_TRUE(TextWorkerInfo(&info).ok());
  EXPECT_EQ(info.active_sequences(), 1);
  EXPECT_GT(info.kv_cache_bytes(), 0);
  ctx.TryCancel();
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::CANCELLED);
  EXPECT_TRUE(WaitUntil([&] { return TextWorkerInfo(&info).ok() && info.active_sequences() == 0; }, 2s));
  EXPECT_EQ(info.kv_cache_bytes(), 0);
}

TEST_F(SystemTest, TooLongPromptIsInvalidArgumentWithTheNumbers) {
  std::string prompt;
  for (int i = 0; i < 33000; ++i) prompt += "a b ";
  const Outcome o = Call(*stub_, RawPrompt(prompt, 8));
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(o.status.error_message().find("32768"), std::string::npos) << o.status.error_message();
  EXPECT_NE(o.status.error_message().find("tokens"), std::string::npos);
}

TEST_F(SystemTest, BadMediaAndRequestsAreInvalidArgument) {
  pb::GenerateRequest req;
  pb::Message* user = req.add_messages();
  user->set_role("user");
  user->add_parts()->mutable_image()->set_data("not an image at all");
  user->add_parts()->set_text("hi");
  Outcome o = Call(*stub_, req);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << o.status.error_message();
  user->mutable_parts(0)->mutable_audio()->set_data("RIFF....WAVEfmt truncated");
  o = Call(*stub_, req);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << o.status.error_message();
  user->set_role("narrator");
  user->mutable_parts(0)->set_text("x");
  o = Call(*stub_, req);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << o.status.error_message();
  req.set_prompt("both set");
  o = Call(*stub_, req);
  EXPECT_EQ(o.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  pb::GenerateRequest bad_config = RawPrompt("x", 4);
  bad_config.mutable_config()->set_top_p(2.0f);
  EXPECT_EQ(Call(*stub_, bad_config).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  bad_config.mutable_config()->set_top_p(0.0f);  // explicit 0: refused, not "off"
  EXPECT_EQ(Call(*stub_, bad_config).status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The gateway and the text worker agree on every boundary (one validation):
  // min_p = 1 is in range for both.
  pb::GenerateRequest edge = RawPrompt("x", 2);
  edge.mutable_config()->set_min_p(1.0f);
  EXPECT_TRUE(Call(*stub_, edge).status.ok()) << Call(*stub_, edge).status.error_message();
  bad_config.mutable_config()->set_top_p(0.5f);
  bad_config.mutable_config()->set_profile("E9000B");
  const Outcome unknown_profile = Call(*stub_, bad_config);
  EXPECT_EQ(unknown_profile.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(unknown_profile.status.error_message().find("known:"), std::string::npos)
      << unknown_profile.status.error_message();
}

TEST_F(SystemTest, StopStringsEndTheStreamBeforeTheMatch) {
  pb::GenerateRequest req = RawPrompt("Once upon a time", 40);
  req.mutable_config()->set_ignore_eos(true);
  const Outcome full = Call(*stub_, req);
  ASSERT_TRUE(full.status.ok());
  ASSERT_GT(full.text.size(), 12u);
  const std::string stop = full.text.substr(8, 3);  // something it will say
  req.mutable_config()->add_stop(stop);
  const Outcome cut = Call(*stub_, req);
  ASSERT_TRUE(cut.status.ok());
  EXPECT_EQ(cut.finish, pb::FINISH_REASON_STOP_STRING);
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
}

TEST_F(SystemTest, AKilledTextWorkerIsRestartedBySupervisor) {
  const std::vector<pid_t> before = testing::ChildrenMatching(serve_.pid(), "gemma3n-text-worker");
  ASSERT_EQ(before.size(), 1u);
  kill(before[0], SIGKILL);
  EXPECT_TRUE(WaitUntil([&] { return Call(*stub_, RawPrompt("hello", 2)).status.ok(); }, 30s));
  const std::vector<pid_t> after = testing::ChildrenMatching(serve_.pid(), "gemma3n-text-worker");
  ASSERT_EQ(after.size(), 1u);
  EXPECT_NE(after[0], before[0]);
  EXPECT_NE(serve_.Log().find("killed by signal 9"), std::string::npos);
}

TEST_F(SystemTest, GetModelInfoShowsTheWorkers) {
  pb::ModelInfo info;
  grpc::ClientContext ctx;
  ASSERT_TRUE(stub_->GetModelInfo(&ctx, pb::GetModelInfoRequest(), &info).ok());
  EXPECT_EQ(info.vocab_size(), 528);
  EXPECT_EQ(info.context_limit(), 32768);
  int healthy_text = 0, healthy_vision = 0, healthy_audio = 0;
  for (const auto& w : info.workers()) {
    healthy_text += w.kind() == "text" && w.healthy();
    healthy_vision += w.kind() == "vision" && w.healthy();
    healthy_audio += w.kind() == "audio" && w.healthy();
  }
  EXPECT_EQ(healthy_text, 1);
  EXPECT_EQ(healthy_vision, 1);
  EXPECT_EQ(healthy_audio, 1);
  // The text worker maps the text core only.
  ipb::TextWorkerInfo tw;
  ASSERT_TRUE(TextWorkerInfo(&tw).ok());
  EXPECT_GT(tw.mapped_tensors_size(), 10);
  for (const std::string& name : tw.mapped_tensors()) {
    EXPECT_EQ(name.rfind("model.language_model.", 0), 0u) << name;
    EXPECT_EQ(name.find("embed_tokens_per_layer"), std::string::npos) << name;
  }
}

TEST_F(SystemTest, PythonClientStreamsTheSameTextAndSeesHealthAndReflection) {
  pb::GenerateRequest req = RawPrompt("Once upon a time", 12);
  req.mutable_config()->set_ignore_eos(true);
  const Outcome o = Call(*stub_, req);
  ASSERT_TRUE(o.status.ok());
  const std::string out = run_dir_ + "/python.out";
  ChildProcess py({"/usr/bin/python3", GEMMA3N_SOURCE_DIR "/examples/python/gemma3n_client.py", "--addr", addr_,
                   "--raw", "--prompt", "Once upon a time", "--max-new-tokens", "12", "--ignore-eos"},
                  out);
  const int status = py.Wait(60s);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << py.Log();
  const std::string log = py.Log();
  EXPECT_NE(log.find(o.text), std::string::npos) << log;
  EXPECT_NE(log.find("generated 12"), std::string::npos) << log;
  // The standard health service and server reflection answer a client that
  // has none of our generated code.
  ChildProcess check({"/usr/bin/python3", GEMMA3N_SOURCE_DIR "/examples/python/gemma3n_client.py", "--addr", addr_,
                      "--check"},
                     run_dir_ + "/check.out");
  const int check_status = check.Wait(60s);
  EXPECT_TRUE(WIFEXITED(check_status) && WEXITSTATUS(check_status) == 0) << check.Log();
  EXPECT_NE(check.Log().find("reflection lists gemma3n.v1.Gemma"), std::string::npos) << check.Log();
}

}  // namespace
}  // namespace gemma3n

namespace gemma3n {
namespace {

TEST_F(SystemTest, SigtermStopsEveryProcessAndRemovesTheSegments) {
  const std::vector<pid_t> children = testing::ChildrenMatching(serve_.pid(), "gemma3n-");
  ASSERT_EQ(children.size(), 5u);  // PLE, text, vision, audio, gateway
  const std::vector<pid_t> ple = testing::ChildrenMatching(serve_.pid(), "gemma3n-ple-service");
  ASSERT_EQ(ple.size(), 1u);
  const std::string segment_prefix = "/dev/shm/gemma3n-ple-" + std::to_string(ple[0]) + "-";
  auto segments = [&] {
    int n = 0;
    for (const auto& e : std::filesystem::directory_iterator("/dev/shm")) {
      n += e.path().string().rfind(segment_prefix, 0) == 0;
    }
    return n;
  };
  EXPECT_EQ(segments(), 1);  // the text worker's
  serve_.Signal(SIGTERM);
  const int status = serve_.Wait(15s);
  ASSERT_NE(status, -1) << "serve did not stop";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  for (pid_t pid : children) EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " still alive";
  EXPECT_EQ(segments(), 0);
}

}  // namespace
}  // namespace gemma3n

namespace gemma3n {
namespace {

// A process that cannot work (here: the gateway's address is taken) is not
// restarted forever: serve stops everything and exits with the reason.
TEST(ServeFailureTest, ATakenAddressStopsServeWithTheReason) {
  const int port = testing::FreeTcpPort();
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(listen(fd, 1), 0);
  const std::string dir = testing::TempDir("serve-failure");
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen",
                      "127.0.0.1:" + std::to_string(port), "--no-vision", "--no-audio"},
                     dir + "/serve.log");
  const int status = serve.Wait(30s);
  close(fd);
  ASSERT_NE(status, -1) << "serve kept running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0);
  const std::string log = serve.Log();
  EXPECT_NE(log.find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos) << log;
  EXPECT_NE(log.find("not restarting"), std::string::npos) << log;
}

// A missing file is bad input too: the gateway exits 2 at once (serve then
// stops with the reason instead of restarting it five times).
TEST(ServeFailureTest, AMissingTokenizerIsExitCodeTwo) {
  const std::string dir = testing::TempDir("no-tokenizer");
  std::filesystem::copy_file(testing::TinyModelDir() + "/config.json", dir + "/config.json");
  ChildProcess gateway({testing::BinDir() + "/gemma3n-gateway", "--model", dir, "--listen",
                        "127.0.0.1:" + std::to_string(testing::FreeTcpPort())},
                       dir + "/gateway.log");
  const int status = gateway.Wait(30s);
  ASSERT_NE(status, -1) << "the gateway kept running";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << status << "\n" << gateway.Log();
  EXPECT_NE(gateway.Log().find("tokenizer"), std::string::npos) << gateway.Log();
}

// serve keeps its sockets in serve-<pid>/ of the user's private socket
// directory; a SIGKILLed serve cannot remove it, so the next serve does.
TEST(ServeFailureTest, AKilledServesRunDirectoryIsRemovedByTheNextServe) {
  const std::string runtime = testing::TempDir("runtime");
  ::setenv("XDG_RUNTIME_DIR", runtime.c_str(), 1);
  const auto start_serve = [](const std::string& log) {
    return ChildProcess({testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen",
                         "127.0.0.1:" + std::to_string(testing::FreeTcpPort()), "--no-vision", "--no-audio"},
                        log);
  };
  ChildProcess first = start_serve(runtime + "/first.log");
  ASSERT_TRUE(WaitUntil([&] { return first.Log().find("ready on") != std::string::npos; }, 60s)) << first.Log();
  const std::string left = runtime + "/gemma3n/serve-" + std::to_string(first.pid());
  ASSERT_TRUE(std::filesystem::is_directory(left)) << left;
  first.Signal(SIGKILL);
  ASSERT_NE(first.Wait(10s), -1);
  EXPECT_TRUE(std::filesystem::is_directory(left)) << "SIGKILL leaves it behind";

  ChildProcess second = start_serve(runtime + "/second.log");
  ASSERT_TRUE(WaitUntil([&] { return second.Log().find("ready on") != std::string::npos; }, 60s)) << second.Log();
  EXPECT_FALSE(std::filesystem::exists(left)) << second.Log();
  second.Signal(SIGTERM);
  EXPECT_NE(second.Wait(20s), -1);
  ::unsetenv("XDG_RUNTIME_DIR");
}

}  // namespace
}  // namespace gemma3n
