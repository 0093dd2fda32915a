// gemma3n-inspect end to end: its outputs against the goldens, and clear
// errors (never a crash) for bad flags, ids and model directories.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "common/io/npy.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;
using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TinyModelDir;

struct CliRun {
  int exit_code;
  std::string out;  // stdout and stderr together
  std::string stdout_only;
};

CliRun Inspect(const std::string& args) {
  // CTest runs these tests in parallel processes: one stderr file per process.
  const std::string err_file = ::testing::TempDir() + "/inspect_stderr." + std::to_string(getpid()) + ".txt";
  const std::string cmd = std::string(GEMMA3N_INSPECT_BIN) + " " + args + " 2>" + err_file;
  CliRun r;
  FILE* pipe = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.stdout_only.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream err(err_file);
  r.out = r.stdout_only + std::string((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  return r;
}

std::string Quote(const std::string& s) { return "'" + s + "'"; }

TEST(InspectCliTest, LogitsFullAndDecodeMatchTheGolden) {
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::string id_list = absl::StrJoin(ids.Ids("text_long.input_ids"), ",");
  const std::string out = ::testing::TempDir() + "/logits.npy";
  for (const std::string mode : {"", " --decode"}) {
    CliRun r = Inspect("logits --model " + Quote(TinyModelDir()) + " --ids " + id_list + " --out " + out + mode);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto npy = ReadNpyAsF32(out);
    ASSERT_TRUE(npy.ok()) << npy.status();
    EXPECT_EQ(npy->shape, (std::vector<int64_t>{41, 528}));
    EXPECT_LE(MaxAbsDiff(npy->data, golden.F32("text_long.logits")), 1e-3f) << mode;
  }
}

TEST(InspectCliTest, GenerateGreedyPrintsTheReferenceIdsThenText) {
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::string prompt = absl::StrJoin(ids.Ids("greedy.prompt_ids"), ",");
  CliRun r = Inspect("generate --model " + Quote(TinyModelDir()) + " --ids " + prompt + " --max-new 16 --no-stop");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  std::vector<std::string> lines = absl::StrSplit(r.stdout_only, '\n');
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], absl::StrJoin(ids.Ids("greedy.generated_ids"), ","));
  EXPECT_NE(r.out.find("tokens/s"), std::string::npos);
}

TEST(InspectCliTest, GeneratePromptGoesThroughTheChatTemplate) {
  CliRun r = Inspect("generate --model " + Quote(TinyModelDir()) + " --prompt 'Hello there' --max-new 8 --seed 3 --temperature 0.7");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  // <bos><start_of_turn>user\nHello there<end_of_turn>\n<start_of_turn>model\n =
  // 2,6,329,269,8,435,278,296,266,410,390,7,8,6,417,341,8 in the tiny vocabulary.
  EXPECT_NE(r.out.find("prompt 17 tokens"), std::string::npos) << r.out;
}

TEST(InspectCliTest, TokenizeWithModelOrTokenizerFile) {
  CliRun r = Inspect("tokenize --model " + Quote(TinyModelDir()) + " --text 'Hello world'");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.stdout_only, "2,435,278,296,291,279,325\n");
  r = Inspect("tokenize --tokenizer " + Quote(TinyModelDir() + "/tokenizer.model") + " --text 'Hello world' --no-bos");
  EXPECT_EQ(r.stdout_only, "435,278,296,291,279,325\n");
  r = Inspect(std::string("tokenize --tokenizer ") + GEMMA3N_REAL_TOKENIZER + " --text 'Hello, my dog is cute'");
  EXPECT_EQ(r.stdout_only, "2,9259,236764,1041,4799,563,12864\n") << r.out;
}

TEST(InspectCliTest, BadInputGivesAClearErrorAndNoCrash) {
  const std::string model = " --model " + Quote(TinyModelDir());
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "usage"},
      {"frobnicate", "unknown command"},
      {"logits" + model + " --ids 2,3", "--out"},
      {"logits" + model + " --ids 2,x,3 --out /tmp/x.npy", "'x'"},
      {"logits" + model + " --ids 2,99999 --out /tmp/x.npy", "99999"},
      {"logits" + model + " --ids 2,3 --out /nonexistent/dir/x.npy", "/nonexistent/dir/x.npy"},
      {"logits --model /nonexistent --ids 2 --out /tmp/x.npy", "/nonexistent"},
      {"generate" + model + " --ids 2 --max-new ten", "--max-new"},
      {"generate" + model + " --ids 2 --top-p 3", "top_p"},
      {"generate" + model + " --ids 2 --prompt hi", "exactly one"},
      {"generate" + model + " --ids 2 --max-new", "needs a value"},
      {"generate" + model + " --ids 2 --bogus 1", "unknown flag --bogus"},
      {"tokenize --text hi", "exactly one"},
      {"tokenize --tokenizer /nonexistent.json --text hi", "/nonexistent.json"},
  };
  for (const auto& [args, expected] : cases) {
    CliRun r = Inspect(args);
    EXPECT_TRUE(r.exit_code == 1 || r.exit_code == 2) << args << " -> exit " << r.exit_code << "\n" << r.out;
    EXPECT_NE(r.out.find(expected), std::string::npos) << args << " -> " << r.out;
  }
}

TEST(InspectCliTest, ProfileFlagRunsTheSubModel) {
  const std::string dir = testing::TestDataPath("matformer-tiny");
  GoldenFile golden("matformer-tiny/golden.safetensors");
  GoldenFile ids("matformer-tiny/golden_ids.safetensors");
  const std::string out = ::testing::TempDir() + "/profile_logits.npy";
  CliRun r = Inspect("logits --model " + Quote(dir) + " --ids " + absl::StrJoin(ids.Ids("seq_chat.input_ids"), ",") +
                     " --out " + out + " --profiles " + Quote(dir + "/configs.csv") +
                     " --profile 'Config for mixed widths (layer-level)' --decode");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto npy = ReadNpyAsF32(out);
  ASSERT_TRUE(npy.ok());
  EXPECT_LE(MaxAbsDiff(npy->data, golden.F32("mixed.seq_chat.logits")), 1e-3f);

  r = Inspect("generate --model " + Quote(dir) + " --ids 2 --profile E9");
  EXPECT_EQ(r.exit_code, 2);  // an unknown name is bad input
  EXPECT_NE(r.out.find("E2.54B-layer"), std::string::npos) << r.out;  // lists the known profiles
  r = Inspect("generate --model " + Quote(dir) + " --ids 2 --profile E2B");  // E4B widths on a tiny model
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("cannot apply"), std::string::npos) << r.out;
}

TEST(SliceCliTest, WritesACheckpointAndRejectsBadArguments) {
  const std::string slice = std::string(GEMMA3N_INSPECT_BIN).replace(std::string(GEMMA3N_INSPECT_BIN).rfind("inspect"), 7, "slice");
  const std::string dir = testing::TestDataPath("matformer-tiny");
  const fs::path out = fs::path(::testing::TempDir()) / "cli_sliced";
  fs::remove_all(out);
  const auto run = [&](const std::string& args) {
    const std::string cmd = slice + " " + args + " 2>&1";
    FILE* pipe = popen(cmd.c_str(), "r");
    std::string text;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) text.append(buf, n);
    const int status = pclose(pipe);
    return std::make_pair(WIFEXITED(status) ? WEXITSTATUS(status) : -1, text);
  };
  auto [code, text] = run("--model " + Quote(dir) + " --profiles " + Quote(dir + "/configs.csv") +
                          " --profile 'Config for E2B-like model' --out " + out.string());
  ASSERT_EQ(code, 0) << text;
  EXPECT_TRUE(fs::exists(out / "model.safetensors.index.json"));
  std::tie(code, text) = run("--model " + Quote(dir) + " --profile E9 --out /tmp/x");
  EXPECT_NE(code, 0);
  EXPECT_NE(text.find("no slicing profile"), std::string::npos) << text;
  std::tie(code, text) = run("--model " + Quote(dir) + " --out /tmp/x");
  EXPECT_EQ(code, 2);
  EXPECT_NE(text.find("--profile"), std::string::npos) << text;
}

TEST(InspectCliTest, AudioFromWavFilesEndToEnd) {
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::string model = " --model " + Quote(TinyModelDir());
  const std::string out = ::testing::TempDir() + "/audio_logits.npy";
  for (const std::string clip : {"0", "1"}) {
    const std::string key = "text_audio_" + clip;
    CliRun r = Inspect("logits" + model + " --ids " + absl::StrJoin(ids.Ids(key + ".input_ids"), ",") + " --audio " +
                       Quote(testing::TestDataPath("audio/audio_" + clip + ".wav")) + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto npy = ReadNpyAsF32(out);
    ASSERT_TRUE(npy.ok());
    // Own features from the WAV differ from the stored ones by up to 4e-4.
    EXPECT_LE(MaxAbsDiff(npy->data, golden.F32(key + ".logits")), 2e-3f) << key;
  }
  // The chat template puts the audio span before the text, as the reference prompt.
  CliRun r = Inspect("generate" + model + " --prompt 'Transcribe this audio.' --max-new 4 --audio " +
                     Quote(testing::TestDataPath("audio/audio_0.wav")));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("prompt 42 tokens"), std::string::npos) << r.out;

  r = Inspect("encode-audio" + model + " --audio " + Quote(testing::TestDataPath("audio/audio_0.wav")) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto rows = ReadNpyAsF32(out);
  ASSERT_TRUE(rows.ok());
  EXPECT_EQ(rows->shape, (std::vector<int64_t>{12, 128}));
  EXPECT_LE(MaxAbsDiff(rows->data, golden.F32("text_audio_0.audio_features_scattered")), 2e-3f);

  r = Inspect("logits" + model + " --ids 2,6,7 --audio " + Quote(testing::TestDataPath("audio/audio_0.wav")) + " --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("0 placeholders"), std::string::npos) << r.out;
  r = Inspect("generate" + model + " --prompt hi --audio " + Quote(TinyModelDir() + "/config.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("not a supported audio file"), std::string::npos) << r.out;
}

TEST(InspectCliTest, ImagesAndAudioFromFilesEndToEnd) {
  GoldenFile golden("golden/vision/tiny_vision.safetensors");
  GoldenFile ids("golden/vision/tiny_vision_ids.safetensors");
  const std::string model = " --model " + Quote(TinyModelDir());
  const std::string image0 = Quote(testing::TestDataPath("images/image_0.png"));
  const std::string image1 = Quote(testing::TestDataPath("images/image_1.jpg"));
  const std::string audio0 = Quote(testing::TestDataPath("audio/audio_0.wav"));
  const std::string out = ::testing::TempDir() + "/image_logits.npy";
  // The resize may differ from the reference by 1 LSB in a pixel, which the
  // random tiny model turns into ~2e-3 in the logits (feeding the reference
  // pixels gives 1e-4: tests/vision).
  CliRun r = Inspect("logits" + model + " --ids " + absl::StrJoin(ids.Ids("image_chat.input_ids"), ",") +
                     " --image " + image0 + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto npy = ReadNpyAsF32(out);
  ASSERT_TRUE(npy.ok());
  EXPECT_LE(MaxAbsDiff(npy->data, golden.F32("image_chat.logits")), 5e-3f);  // measured 1.8e-3
  r = Inspect("logits" + model + " --ids " + absl::StrJoin(ids.Ids("image_audio.input_ids"), ",") + " --image " +
              image1 + " --audio " + audio0 + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  npy = ReadNpyAsF32(out);
  ASSERT_TRUE(npy.ok());
  EXPECT_LE(MaxAbsDiff(npy->data, golden.F32("image_audio.logits")), 5e-3f);  // measured 9.9e-4

  r = Inspect("logits" + model + " --ids " + absl::StrJoin(ids.Ids("two_images.input_ids"), ",") + " --image " +
              image0 + " --image " + image1 + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  npy = ReadNpyAsF32(out);
  ASSERT_TRUE(npy.ok());
  EXPECT_LE(MaxAbsDiff(npy->data, golden.F32("two_images.logits")), 5e-3f);

  // image_greedy: 16 greedy tokens after the image_chat prompt (reference min top-2 margin 0.048).
  r = Inspect("generate" + model + " --ids " + absl::StrJoin(ids.Ids("image_chat.input_ids"), ",") + " --image " +
              image0 + " --max-new 16 --no-stop");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.stdout_only.substr(0, r.stdout_only.find('\n')), absl::StrJoin(ids.Ids("image_greedy.generated_ids"), ","));

  // The chat template with an image and an audio part builds the golden ids.
  r = Inspect("generate" + model + " --prompt 'What do you see and hear?' --max-new 2 --image " + image1 + " --audio " +
              audio0);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("prompt 108 tokens"), std::string::npos) << r.out;

  r = Inspect("encode-image" + model + " --image " + image0 + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  npy = ReadNpyAsF32(out);
  ASSERT_TRUE(npy.ok());
  EXPECT_EQ(npy->shape, (std::vector<int64_t>{64, 128}));

  r = Inspect("generate" + model + " --prompt hi --image " + Quote(TinyModelDir() + "/config.json"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("not a supported image"), std::string::npos) << r.out;
  r = Inspect("logits" + model + " --ids 2,6,7 --image " + image0 + " --out " + out);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("0 placeholders"), std::string::npos) << r.out;
}

// A checkpoint whose tensor disagrees with its config, or is cut short.
TEST(InspectCliTest, BadCheckpointNamesTheTensorAndFile) {
  const fs::path dir = fs::path(::testing::TempDir()) / "bad_model";
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"model.safetensors", "tokenizer.model"}) fs::copy(TinyModelDir() + "/" + f, dir / f);
  std::ifstream in(TinyModelDir() + "/config.json");
  std::string config((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string from = "\"laurel_rank\": 8", to = "\"laurel_rank\": 16";
  ASSERT_NE(config.find(from), std::string::npos);
  std::ofstream(dir / "config.json") << config.replace(config.find(from), from.size(), to);
  CliRun r = Inspect("logits --model " + dir.string() + " --ids 2 --out /tmp/x.npy");
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("laurel.linear_left.weight"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[8, 128]"), std::string::npos) << r.out;

  std::ofstream(dir / "config.json") << config.replace(config.find(to), to.size(), from);
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  r = Inspect("logits --model " + dir.string() + " --ids 2 --out /tmp/x.npy");
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.out.find("truncated"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("model.safetensors"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gemma3n
