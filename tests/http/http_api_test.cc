// The HTTP API on the real system: `gemma3n serve --model tests/data/gemma3n-tiny
// --http ...` driven by the official openai SDK (tests/http/openai_client.mjs
// on Node) and by curl, and a client that hangs up mid-stream. Gateways of
// their own, in front of the same workers, give the error classes that need
// a configuration: a 1 MB request limit (413), one slot and no queue (429),
// a dead text worker address (503).
#include <signal.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/rpc/server.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "tests/integration/client.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace ipb = gemma3n::internal::v1;
namespace v1 = gemma3n::v1;
using testing::ChildProcess;
using testing::WaitUntil;
using namespace std::chrono_literals;

constexpr char kModelId[] = "gemma3n-tiny";  // the tiny model directory's name

std::string FreeAddress(int& port) {
  port = testing::FreeTcpPort();
  return "127.0.0.1:" + std::to_string(port);
}

bool HttpUp(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  const httplib::Result r = client.Get("/v1/models");
  return r && (r->status == 200 || r->status == 401);  // 401: up, and it wants a key
}

// POST /v1/completions with `body`; the reply goes to `receiver` as it comes.
httplib::Request CompletionRequest(std::string body, httplib::ContentReceiverWithProgress receiver) {
  httplib::Request req;
  req.method = "POST";
  req.path = "/v1/completions";
  req.set_header("Content-Type", "application/json");
  req.body = std::move(body);
  req.content_receiver = std::move(receiver);
  return req;
}

// A stream far longer than any test waits for.
constexpr char kLongStream[] =
    R"({"prompt": "Once upon a time", "max_tokens": 30000, "ignore_eos": true, "stream": true})";

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir("http-api");
    int grpc_port = 0;
    const std::string listen = FreeAddress(grpc_port);
    const std::string http = FreeAddress(http_port_);
    serve_ = ChildProcess({testing::BinDir() + "/gemma3n", "serve", "--model", testing::TinyModelDir(), "--listen",
                           listen, "--http", http, "--run-dir", dir_, "--threads", "1"},
                          dir_ + "/serve.log");
    ASSERT_TRUE(WaitUntil([&] { return serve_.Log().find("ready on") != std::string::npos; }, 60s)) << serve_.Log();
    // The gateway binds its HTTP port before it takes gRPC calls, so it is up
    // by "ready".
    ASSERT_TRUE(HttpUp(http_port_)) << serve_.Log();
    text_worker_ = ipb::TextWorker::NewStub(MakeChannel("unix:" + dir_ + "/text-0.sock"));
  }
  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "---- serve log ----\n%s\n", serve_.Log().c_str());
      for (const ChildProcess& g : gateways_) std::fprintf(stderr, "---- gateway log ----\n%s\n", g.Log().c_str());
    }
  }

  // A gateway of its own with `flags`; returns its HTTP base URL.
  std::string StartGateway(const std::string& name, std::vector<std::string> flags) {
    int grpc_port = 0, http_port = 0;
    std::vector<std::string> argv = {testing::BinDir() + "/gemma3n-gateway", "--model", testing::TinyModelDir(),
                                     "--listen", FreeAddress(grpc_port), "--http", FreeAddress(http_port)};
    argv.insert(argv.end(), flags.begin(), flags.end());
    gateways_.emplace_back(argv, dir_ + "/" + name + ".log");
    EXPECT_TRUE(WaitUntil([&] { return HttpUp(http_port); }, 30s)) << gateways_.back().Log();
    return "http://127.0.0.1:" + std::to_string(http_port) + "/v1";
  }

  int ActiveSequences() {
    ipb::TextWorkerInfo info;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 1s);
    return text_worker_->GetInfo(&ctx, ipb::TextWorkerInfoRequest(), &info).ok() ? info.active_sequences() : -1;
  }

  std::string Base() const { return "http://127.0.0.1:" + std::to_string(http_port_) + "/v1"; }

  std::string dir_;
  int http_port_ = 0;
  ChildProcess serve_;
  std::vector<ChildProcess> gateways_;
  std::unique_ptr<ipb::TextWorker::Stub> text_worker_;
};

// Everything a user of the SDK does, and every error class, through the SDK.
TEST_F(HttpApiTest, OfficialOpenAiSdk) {
  const std::string text = "unix:" + dir_ + "/text-0.sock";
  const std::string small = StartGateway("small", {"--text-worker", text, "--vision-worker",
                                                   "unix:" + dir_ + "/vision.sock", "--max-request-mb", "1"});
  const std::string busy = StartGateway("busy", {"--text-worker", text, "--max-concurrent", "1", "--max-queued", "0"});
  const std::string dead = StartGateway("dead", {"--text-worker", "unix:" + dir_ + "/no-such-worker.sock"});
  ChildProcess node({"/usr/bin/env", std::string("OPENAI_SDK_DIR=") + GEMMA3N_OPENAI_SDK_DIR,
                     std::string("GEMMA3N_MODEL=") + kModelId, std::string("GEMMA3N_DATA=") + GEMMA3N_TEST_DATA_DIR,
                     "GEMMA3N_BASE=" + Base(), "GEMMA3N_SMALL_BASE=" + small, "GEMMA3N_BUSY_BASE=" + busy,
                     "GEMMA3N_DEAD_BASE=" + dead, "node",
                     std::string(GEMMA3N_SOURCE_DIR) + "/tests/http/openai_client.mjs"},
                    dir_ + "/node.log");
  const int status = node.Wait(240s);
  ASSERT_NE(status, -1) << "the SDK client did not finish\n" << node.Log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << node.Log();
  EXPECT_NE(node.Log().find("checks passed"), std::string::npos) << node.Log();
}

// curl: a streamed chat with a data-URI image is server-sent events, a
// `data:` line per chunk, the role first, the finish reason last, then [DONE].
TEST_F(HttpApiTest, CurlStreamsServerSentEvents) {
  const std::string jpeg = testing::ReadBytes(std::string(GEMMA3N_TEST_DATA_DIR) + "/images/image_1.jpg");
  const nlohmann::json content = nlohmann::json::array(
      {{{"type", "text"}, {"text", "What is in the picture?"}},
       {{"type", "image_url"}, {"image_url", {{"url", "data:image/jpeg;base64," + absl::Base64Escape(jpeg)}}}}});
  const nlohmann::json body = {{"model", kModelId},
                               {"stream", true},
                               {"max_tokens", 5},
                               {"messages", nlohmann::json::array({{{"role", "user"}, {"content", content}}})}};
  const std::string body_file = dir_ + "/request.json";
  std::FILE* f = std::fopen(body_file.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs(body.dump().c_str(), f);
  std::fclose(f);
  ChildProcess curl({"/usr/bin/env", "curl", "-sS", "-N", "-H", "Content-Type: application/json", "--data-binary",
                     "@" + body_file, "-w", "HTTP %{http_code} %{content_type}\n", Base() + "/chat/completions"},
                    dir_ + "/curl.log");
  ASSERT_NE(curl.Wait(60s), -1);
  const std::vector<std::string> lines = absl::StrSplit(curl.Log(), '\n', absl::SkipEmpty());
  ASSERT_GE(lines.size(), 4u) << curl.Log();
  EXPECT_EQ(lines.back(), "HTTP 200 text/event-stream") << curl.Log();
  ASSERT_EQ(lines[lines.size() - 2], "data: [DONE]") << curl.Log();
  std::vector<nlohmann::json> chunks;
  for (size_t i = 0; i + 2 < lines.size(); ++i) {
    ASSERT_TRUE(absl::StartsWith(lines[i], "data: ")) << lines[i];
    chunks.push_back(nlohmann::json::parse(lines[i].substr(6)));
    EXPECT_EQ(chunks.back()["object"], "chat.completion.chunk");
  }
  EXPECT_EQ(chunks.front()["choices"][0]["delta"]["role"], "assistant");
  EXPECT_EQ(chunks.back()["choices"][0]["finish_reason"], "length");
  ASSERT_GE(chunks.size(), 3u) << "role, text, finish";
  for (size_t i = 1; i + 1 < chunks.size(); ++i) {
    EXPECT_TRUE(chunks[i]["choices"][0]["delta"]["content"].is_string()) << chunks[i].dump();
    EXPECT_TRUE(chunks[i]["choices"][0]["finish_reason"].is_null()) << chunks[i].dump();
  }
}

// --api-key-file: every route but /health answers 401 in OpenAI's format
// without the key, and works with it (the in-process calls pass the
// gRPC service's own check).
TEST_F(HttpApiTest, WithAnApiKeyFileEveryRouteButHealthNeedsTheKey) {
  const std::string keys = dir_ + "/keys.txt";
  std::FILE* f = std::fopen(keys.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("# test key\nsecret-1\n", f);
  std::fclose(f);
  const std::string base =
      StartGateway("keyed", {"--text-worker", "unix:" + dir_ + "/text-0.sock", "--api-key-file", keys});
  const int port = std::stoi(base.substr(base.rfind(':') + 1));
  httplib::Client client("127.0.0.1", port);
  const char* chat = R"({"messages": [{"role": "user", "content": "hi"}], "max_tokens": 2})";
  auto refused = client.Post("/v1/chat/completions", chat, "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(nlohmann::json::parse(refused->body)["error"]["code"], "invalid_api_key") << refused->body;
  auto wrong = client.Get("/v1/models", {{"Authorization", "Bearer secret-2"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto health = client.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << health->body;
  auto models = client.Get("/v1/models", {{"Authorization", "Bearer secret-1"}});
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200) << models->body;
  auto answered = client.Post("/v1/chat/completions", {{"Authorization", "Bearer secret-1"}}, chat, "application/json");
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200) << answered->body;
}

// --tls-cert / --tls-key serve the HTTP API over HTTPS too: curl trusting
// the certificate gets the model list, plain HTTP gets nothing.
TEST_F(HttpApiTest, WithTlsTheHttpApiIsHttps) {
  const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                          "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                          dir_ + "/key.pem -out " + dir_ + "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  int grpc_port = 0, https_port = 0;
  ChildProcess gateway({testing::BinDir() + "/gemma3n-gateway", "--model", testing::TinyModelDir(), "--listen",
                        FreeAddress(grpc_port), "--http", FreeAddress(https_port), "--text-worker",
                        "unix:" + dir_ + "/text-0.sock", "--tls-cert", dir_ + "/cert.pem", "--tls-key",
                        dir_ + "/key.pem"},
                       dir_ + "/https-gateway.log");
  ASSERT_TRUE(WaitUntil([&] { return gateway.Log().find("(HTTPS)") != std::string::npos; }, 30s)) << gateway.Log();
  const std::string url = "https://127.0.0.1:" + std::to_string(https_port) + "/v1/models";
  ChildProcess curl({"/usr/bin/env", "curl", "-sS", "--cacert", dir_ + "/cert.pem", "-w", "\nHTTP %{http_code}\n", url},
                    dir_ + "/https-curl.log");
  ASSERT_NE(curl.Wait(30s), -1);
  EXPECT_NE(curl.Log().find("HTTP 200"), std::string::npos) << curl.Log() << gateway.Log();
  EXPECT_NE(curl.Log().find(kModelId), std::string::npos) << curl.Log();
  EXPECT_FALSE(HttpUp(https_port)) << "plain HTTP must not be answered on the HTTPS port";
}

// A client that hangs up mid-stream: the gateway cancels the generation, the
// text worker drops the sequence long before its 30000 tokens.
TEST_F(HttpApiTest, ClientThatHangsUpCancelsTheGeneration) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(60);
  size_t received = 0;
  int active_while_streaming = -1;
  const auto receive = [&](const char*, size_t n, uint64_t, uint64_t) {
    received += n;
    if (received < 2000) return true;
    active_while_streaming = ActiveSequences();
    return false;  // hang up
  };
  const httplib::Result result = client.send(CompletionRequest(kLongStream, receive));
  EXPECT_FALSE(result) << "the receiver stopped the transfer";
  ASSERT_EQ(active_while_streaming, 1);
  ASSERT_TRUE(WaitUntil([&] { return ActiveSequences() == 0; }, 30s)) << "the sequence kept running";
  const std::string log = serve_.Log();
  EXPECT_TRUE(log.find("the client disconnected") != std::string::npos ||
              log.find("the client stopped reading") != std::string::npos)
      << log;
  EXPECT_EQ(log.find("generated 30000"), std::string::npos) << "it ran to its end";
}

// An error after the stream began (the text worker dies mid-stream) cannot
// change the HTTP status any more: it is a last `data: {"error": ...}` event,
// and the stream ends without [DONE].
TEST_F(HttpApiTest, AnErrorAfterStreamingBeganIsALastErrorEvent) {
  httplib::Client client("127.0.0.1", http_port_);
  client.set_read_timeout(60);
  std::string stream;
  bool killed = false;
  const auto receive = [&](const char* data, size_t n, uint64_t, uint64_t) {
    stream.append(data, n);
    if (!killed && stream.size() > 2000) {
      const std::vector<pid_t> workers = testing::ChildrenMatching(serve_.pid(), "gemma3n-text-worker");
      EXPECT_EQ(workers.size(), 1u);
      for (pid_t pid : workers) kill(pid, SIGKILL);
      killed = true;
    }
    return true;
  };
  const httplib::Result result = client.send(CompletionRequest(kLongStream, receive));
  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  ASSERT_TRUE(killed);
  const std::vector<std::string> events = absl::StrSplit(stream, "\n\n", absl::SkipEmpty());
  ASSERT_GE(events.size(), 2u);
  ASSERT_TRUE(absl::StartsWith(events.back(), "data: ")) << events.back();
  const nlohmann::json last = nlohmann::json::parse(events.back().substr(6), nullptr, false);
  ASSERT_TRUE(last.contains("error")) << events.back();
  EXPECT_TRUE(last["error"]["message"].is_string());
  EXPECT_EQ(stream.find("[DONE]"), std::string::npos);
}

// A client that hangs up while its request waits for a slot leaves the line
// at once (noticed by watching its connection, not at a write, since nothing
// is written to a waiting client): the place it held goes to the next one.
TEST_F(HttpApiTest, ClientThatHangsUpWhileQueuedLeavesTheLine) {
  const std::string base = StartGateway("queue", {"--text-worker", "unix:" + dir_ + "/text-0.sock",
                                                  "--max-concurrent", "1", "--max-queued", "1"});
  const int port = std::stoi(base.substr(base.rfind(':') + 1));
  const auto post = [&](const std::string& body, int read_timeout_s, httplib::ContentReceiverWithProgress rx) {
    httplib::Client client("127.0.0.1", port);
    client.set_read_timeout(read_timeout_s);
    return client.send(CompletionRequest(body, std::move(rx)));
  };
  // The only slot: a long stream (its text may pause: after end-of-turn
  // tokens the tiny model's tokens may be empty text), hung up at the end.
  std::atomic<bool> holding{false};
  httplib::Client holder_client("127.0.0.1", port);
  holder_client.set_read_timeout(120);
  std::thread holder([&] {
    holder_client.send(CompletionRequest(kLongStream, [&](const char*, size_t, uint64_t, uint64_t) {
      holding = true;
      return true;
    }));
  });
  ASSERT_TRUE(WaitUntil([&] { return holding.load(); }, 30s));
  // The only place in line: a request whose client gives up after 1 s.
  const std::string short_one = R"({"prompt": "Hi", "max_tokens": 2})";
  const httplib::Result gave_up = post(short_one, 1, nullptr);
  EXPECT_FALSE(gave_up) << "it waited in line (status " << (gave_up ? gave_up->status : 0) << ")";
  // Its place is free again: a newcomer waits in line (and gives up in its
  // turn) instead of being refused with 429.
  EXPECT_TRUE(WaitUntil([&] { return !post(short_one, 1, nullptr); }, 10s))
      << "the line stayed full after its client hung up";
  holder_client.stop();
  holder.join();
}

// Model ids on a model with MatFormer profiles: GET /v1/models lists NAME and
// NAME:PROFILE for each, and NAME:PROFILE runs that profile (the reply is the
// gRPC reply with GenerationConfig.profile set, not the full model's).
TEST(HttpModelIdsTest, ModelIdsPickMatFormerProfiles) {
  const std::string model = testing::TestDataPath("matformer-tiny");
  const std::string dir = testing::TempDir("http-matformer");
  int grpc_port = 0, http_port = 0;
  const std::string listen = FreeAddress(grpc_port), http = FreeAddress(http_port);
  ChildProcess serve({testing::BinDir() + "/gemma3n", "serve", "--model", model, "--listen", listen, "--http", http,
                      "--run-dir", dir, "--profiles", model + "/configs.csv", "--threads", "1"},
                     dir + "/serve.log");
  ASSERT_TRUE(WaitUntil([&] { return serve.Log().find("ready on") != std::string::npos; }, 60s)) << serve.Log();
  auto stub = v1::Gemma::NewStub(MakeChannel(listen));
  v1::ModelInfo info;
  ASSERT_TRUE(WaitUntil(
      [&] {
        grpc::ClientContext ctx;
        return stub->GetModelInfo(&ctx, v1::GetModelInfoRequest(), &info).ok() && info.profiles_size() > 0;
      },
      30s));

  httplib::Client client("127.0.0.1", http_port);
  const httplib::Result listed = client.Get("/v1/models");
  ASSERT_TRUE(listed && listed->status == 200);
  std::vector<std::string> ids;
  const nlohmann::json list = nlohmann::json::parse(listed->body);
  for (const auto& m : list["data"]) ids.push_back(m["id"]);
  std::vector<std::string> expected = {"matformer-tiny"};
  for (const std::string& p : info.profiles()) expected.push_back("matformer-tiny:" + p);
  EXPECT_EQ(ids, expected);

  const auto http_text = [&](const std::string& id) {
    const nlohmann::json body = {{"model", id}, {"prompt", "The capital of France is"}, {"max_tokens", 8},
                                 {"ignore_eos", true}};
    const httplib::Result r = client.Post("/v1/completions", body.dump(), "application/json");
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no reply");
    return r && r->status == 200 ? nlohmann::json::parse(r->body)["choices"][0]["text"].get<std::string>() : "";
  };
  const auto grpc_text = [&](const std::string& p) {
    v1::GenerateRequest req = testing::RawPrompt("The capital of France is", 8, true);
    req.mutable_config()->set_profile(p);
    const testing::Outcome out = testing::Call(*stub, req);
    EXPECT_TRUE(out.status.ok()) << out.status.error_message();
    return out.text;
  };
  // A profile that answers unlike the full model (the largest may equal it),
  // so that the comparison means something.
  const std::string full = grpc_text("");
  std::string profile, sub;
  for (const std::string& p : info.profiles()) {
    sub = grpc_text(p);
    if (sub != full) {
      profile = p;
      break;
    }
  }
  ASSERT_FALSE(profile.empty()) << "every profile answered like the full model";
  EXPECT_EQ(http_text("matformer-tiny:" + profile), sub);
  EXPECT_EQ(http_text("matformer-tiny"), full);
  const httplib::Result unknown =
      client.Post("/v1/completions", R"({"model": "matformer-tiny:E99B", "prompt": "x"})", "application/json");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  if (HasFailure()) std::fprintf(stderr, "---- serve log ----\n%s\n", serve.Log().c_str());
}

}  // namespace
}  // namespace gemma3n
