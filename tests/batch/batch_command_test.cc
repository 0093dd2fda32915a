// `gemma3n batch --model tests/data/gemma3n-tiny`: the real command starting
// the real system for a batch file of chat, image, audio and completion
// requests with bad lines in the middle, then a rerun that has nothing left
// to do.
#include <sys/wait.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/integration/client.h"
#include "tests/integration/process.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

using testing::ChildProcess;
using json = nlohmann::json;
using namespace std::chrono_literals;

constexpr char kModelId[] = "gemma3n-tiny";

std::string Line(const std::string& custom_id, const std::string& url, const json& body) {
  return json{{"custom_id", custom_id}, {"method", "POST"}, {"url", url}, {"body", body}}.dump();
}

json Chat(const json& content) {
  return {{"model", kModelId},
          {"max_tokens", 4},
          {"messages", json::array({{{"role", "user"}, {"content", content}}})}};
}

std::string BatchInput() {
  const std::string png = testing::ReadBytes(testing::TestDataPath("images/image_0.png"));
  const std::string wav = testing::ReadBytes(testing::TestDataPath("audio/audio_0.wav"));
  const json image = json::array(
      {{{"type", "text"}, {"text", "Describe the picture."}},
       {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + absl::Base64Escape(png)}}}}});
  const json audio = json::array(
      {{{"type", "text"}, {"text", "Transcribe this."}},
       {{"type", "input_audio"}, {"input_audio", {{"data", absl::Base64Escape(wav)}, {"format", "wav"}}}}});
  json two_choices = Chat("Hello");
  two_choices["n"] = 2;  // a well-formed line the server refuses: 400 in the output
  std::vector<std::string> lines = {
      Line("chat", "/v1/chat/completions", Chat("Hello there")),
      "this line is not JSON",
      Line("image", "/v1/chat/completions", Chat(image)),
      R"({"custom_id": "wrong-url", "method": "POST", "url": "/v1/embeddings", "body": {}})",
      Line("audio", "/v1/chat/completions", Chat(audio)),
      Line("two-choices", "/v1/chat/completions", two_choices),
      Line("completion", "/v1/completions", {{"model", kModelId}, {"prompt", "Once upon a time"}, {"max_tokens", 3}}),
  };
  std::string text;
  for (const std::string& line : lines) text += line + "\n";
  return text;
}

std::vector<json> ReadJsonLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(json::parse(line));
  }
  return out;
}

// custom_id (or "line N" for the line without one) -> its output line.
std::map<std::string, json> ByCustomId(const std::vector<json>& results) {
  std::map<std::string, json> out;
  for (const json& r : results) {
    const std::string key = r["custom_id"].is_string() ? r["custom_id"].get<std::string>() : "no id";
    EXPECT_EQ(out.count(key), 0u) << "two results for " << key;
    out[key] = r;
  }
  return out;
}

int RunBatch(const std::string& dir, const std::string& tag) {
  ChildProcess batch({testing::BinDir() + "/gemma3n", "batch", "--model", testing::TinyModelDir(), "--input",
                      dir + "/requests.jsonl", "--output", dir + "/results.jsonl", "--threads", "1",
                      "--concurrency", "3"},
                     dir + "/" + tag + ".log");
  const int status = batch.Wait(300s);
  EXPECT_NE(status, -1) << "the batch did not finish\n" << batch.Log();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << batch.Log();
  return status;
}

TEST(BatchCommandTest, RunsChatImageAudioAndCompletionLinesPastBadOnesAndAResumeHasNothingLeft) {
  const std::string dir = testing::TempDir("batch-command");
  {
    std::ofstream(dir + "/requests.jsonl") << BatchInput();
  }
  RunBatch(dir, "first");
  const std::vector<json> results = ReadJsonLines(dir + "/results.jsonl");
  ASSERT_EQ(results.size(), 7u) << "one result or error line per input line";
  std::map<std::string, json> by_id = ByCustomId(results);

  int text_only_prompt = 0;
  for (const char* id : {"chat", "image", "audio"}) {
    SCOPED_TRACE(id);
    const json& r = by_id[id];
    ASSERT_TRUE(r["error"].is_null()) << r.dump();
    ASSERT_EQ(r["response"]["status_code"], 200) << r.dump();
    const json& body = r["response"]["body"];
    EXPECT_EQ(body["object"], "chat.completion");
    EXPECT_TRUE(body["choices"][0]["message"]["content"].is_string());
    EXPECT_GT(body["usage"]["completion_tokens"].get<int>(), 0);
    if (std::string(id) == "chat") text_only_prompt = body["usage"]["prompt_tokens"].get<int>();
  }
  // The media went in as soft tokens: the image adds its 64, the audio its own.
  EXPECT_GE(by_id["image"]["response"]["body"]["usage"]["prompt_tokens"].get<int>(), text_only_prompt + 64);
  EXPECT_GT(by_id["audio"]["response"]["body"]["usage"]["prompt_tokens"].get<int>(), text_only_prompt + 10);

  const json& completion = by_id["completion"];
  ASSERT_EQ(completion["response"]["status_code"], 200) << completion.dump();
  EXPECT_EQ(completion["response"]["body"]["object"], "text_completion");
  EXPECT_EQ(completion["response"]["body"]["usage"]["completion_tokens"], 3);

  // The server's refusal is the request's result, with its HTTP status.
  const json& refused = by_id["two-choices"];
  EXPECT_EQ(refused["response"]["status_code"], 400) << refused.dump();
  EXPECT_TRUE(refused["response"]["body"]["error"]["message"].is_string()) << refused.dump();

  // Lines that are not requests: an error line each, and nothing sent.
  EXPECT_TRUE(by_id["no id"]["response"].is_null());
  EXPECT_EQ(by_id["no id"]["error"]["code"], "invalid_request") << by_id["no id"].dump();
  EXPECT_TRUE(by_id["wrong-url"]["response"].is_null());
  EXPECT_EQ(by_id["wrong-url"]["error"]["code"], "invalid_request") << by_id["wrong-url"].dump();
  EXPECT_NE(by_id["wrong-url"]["error"]["message"].get<std::string>().find("/v1/embeddings"), std::string::npos);

  // The rerun finds every answered request done: nothing is sent again, and
  // those results are kept; the bad lines are reported again (they may have
  // been fixed in between).
  RunBatch(dir, "second");
  const std::string second_log = testing::ReadBytes(dir + "/second.log");
  EXPECT_NE(second_log.find("0 succeeded"), std::string::npos) << second_log;
  const std::map<std::string, json> again = ByCustomId(ReadJsonLines(dir + "/results.jsonl"));
  ASSERT_EQ(again.size(), 7u);
  for (const char* id : {"chat", "image", "audio", "completion", "two-choices"}) {
    SCOPED_TRACE(id);
    ASSERT_EQ(again.count(id), 1u);
    EXPECT_EQ(again.at(id), by_id[id]);
  }
  EXPECT_EQ(again.at("wrong-url")["error"]["code"], "invalid_request");
}

}  // namespace
}  // namespace gemma3n
