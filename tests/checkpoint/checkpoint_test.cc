// The checkpoint loader on good and bad files: every corruption gives a
// clear error naming the file (and tensor), never a crash.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "common/io/npy.h"
#include "common/kernels/weight_matrix.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct FakeTensor {
  std::string name, dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// Writes a safetensors file; `header_override` replaces the generated header.
void WriteSafetensors(const std::string& path, const std::vector<FakeTensor>& tensors,
                      const std::string& header_override = "") {
  json header = json::object();
  std::string body;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {body.size(), body.size() + t.bytes.size()}}};
    body += t.bytes;
  }
  header["__metadata__"] = {{"format", "pt"}};
  const std::string h = header_override.empty() ? header.dump() : header_override;
  std::ofstream out(path, std::ios::binary);
  const uint64_t n = h.size();
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << h << body;
}

std::string Floats(const std::vector<float>& v) { return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4); }
std::string Bf16(const std::vector<float>& v) {
  std::string out;
  for (float f : v) {
    const uint16_t b = F32ToBf16(f);
    out.append(reinterpret_cast<const char*>(&b), 2);
  }
  return out;
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("ckpt_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WriteConfig(R"({"model_type": "gemma3n", "text_config": {}})");
  }
  void WriteConfig(const std::string& text) { std::ofstream(dir_ / "config.json") << text; }
  std::string Dir() const { return dir_.string(); }
  std::string File(const std::string& name) const { return (dir_ / name).string(); }
  static void ExpectError(const absl::Status& s, absl::StatusCode code, const std::vector<std::string>& words) {
    EXPECT_EQ(s.code(), code) << s;
    for (const auto& w : words) EXPECT_NE(s.message().find(w), std::string::npos) << "'" << w << "' not in: " << s;
  }
  fs::path dir_;
};

TEST_F(CheckpointTest, ReadsEveryFloatDtype) {
  const std::vector<float> v = {1.0f, -2.5f, 0.15625f, 3e-3f};
  std::string f16;
  for (uint16_t h : {0x3C00, 0xC100, 0x3100, 0x0001}) f16.append(reinterpret_cast<const char*>(&h), 2);  // 1, -2.5, 0.15625, 2^-24
  std::string f64;
  for (double d : {1.0, -2.5, 0.15625, 3e-3}) f64.append(reinterpret_cast<const char*>(&d), 8);
  WriteSafetensors(File("model.safetensors"), {{"a.f32", "F32", {2, 2}, Floats(v)},
                                               {"a.bf16", "BF16", {4}, Bf16(v)},
                                               {"a.f16", "F16", {4}, f16},
                                               {"a.f64", "F64", {4}, f64}});
  auto ckpt = Checkpoint::Open(Dir());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ(ToF32Vector(*(*ckpt)->Get("a.f32")), v);
  EXPECT_EQ(ToF32Vector(*(*ckpt)->Get("a.f64"))[2], 0.15625f);
  const auto bf = ToF32Vector(*(*ckpt)->Get("a.bf16"));
  for (size_t i = 0; i < v.size(); ++i) EXPECT_NEAR(bf[i], v[i], std::fabs(v[i]) / 128);
  const auto h = ToF32Vector(*(*ckpt)->Get("a.f16"));
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], -2.5f);
  EXPECT_EQ(h[2], 0.15625f);
  EXPECT_EQ(h[3], std::ldexp(1.0f, -24));
  // A bf16 matrix stays in the mapping: no copy.
  auto w = LoadWeightMatrix(**ckpt, "a.f32", 2, 2);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->format, WeightMatrix::Format::kF32);
}

TEST_F(CheckpointTest, ShardedCheckpointMapsOnlyTheShardsAComponentNeeds) {
  WriteSafetensors(File("model-00001-of-00002.safetensors"), {{"model.language_model.w", "F32", {2}, Floats({1, 2})}});
  WriteSafetensors(File("model-00002-of-00002.safetensors"), {{"model.vision_tower.w", "F32", {1}, Floats({3})}});
  std::ofstream(File("model.safetensors.index.json"))
      << R"({"metadata": {}, "weight_map": {"model.language_model.w": "model-00001-of-00002.safetensors",
                                            "model.vision_tower.w": "model-00002-of-00002.safetensors"}})";
  auto text = Checkpoint::Open(Dir(), {"model.language_model."});
  ASSERT_TRUE(text.ok()) << text.status();
  ASSERT_EQ((*text)->MappedFiles().size(), 1u);
  EXPECT_NE((*text)->MappedFiles()[0].find("00001"), std::string::npos);
  EXPECT_TRUE((*text)->Has("model.language_model.w"));
  EXPECT_FALSE((*text)->Has("model.vision_tower.w"));
  ExpectError((*text)->Get("model.vision_tower.w").status(), absl::StatusCode::kFailedPrecondition,
              {"model.vision_tower.w", "prefixes"});
  EXPECT_EQ((*text)->AccessedTensors().size(), 0u);
  ASSERT_TRUE((*text)->Get("model.language_model.w").ok());
  EXPECT_EQ((*text)->AccessedTensors(), std::set<std::string>{"model.language_model.w"});
  auto all = Checkpoint::Open(Dir());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)->MappedFiles().size(), 2u);
}

TEST_F(CheckpointTest, MissingShardAndIndexLies) {
  std::ofstream(File("model.safetensors.index.json")) << R"({"weight_map": {"w": "model-00001-of-00001.safetensors"}})";
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kNotFound, {"model-00001-of-00001.safetensors"});
  WriteSafetensors(File("model-00001-of-00001.safetensors"), {{"other", "F32", {1}, Floats({1})}});
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"w", "model-00001-of-00001.safetensors"});
  std::ofstream(File("model.safetensors.index.json")) << R"({"weight_map": {"w": "../../etc/passwd"}})";
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kInvalidArgument, {"index", "w"});
  std::ofstream(File("model.safetensors.index.json")) << R"([1, 2])";
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kInvalidArgument, {"weight_map"});
}

TEST_F(CheckpointTest, TruncatedFile) {
  WriteSafetensors(File("model.safetensors"), {{"w", "F32", {4}, Floats({1, 2, 3, 4})}});
  fs::resize_file(File("model.safetensors"), fs::file_size(File("model.safetensors")) - 4);
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "'w'", "truncated"});
  fs::resize_file(File("model.safetensors"), 5);
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "8-byte"});
}

TEST_F(CheckpointTest, HeaderLengthBeyondTheFile) {
  std::ofstream out(File("model.safetensors"), std::ios::binary);
  const uint64_t n = 1ull << 40;
  out.write(reinterpret_cast<const char*>(&n), 8);
  out << "{}";
  out.close();
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "header length"});
}

TEST_F(CheckpointTest, HeaderThatIsNotJson) {
  WriteSafetensors(File("model.safetensors"), {}, "{not json");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "JSON"});
}

TEST_F(CheckpointTest, HeaderThatLiesAboutOffsets) {
  WriteSafetensors(File("model.safetensors"), {{"w", "F32", {2}, Floats({1, 2})}},
                   R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 800]}})");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "'w'", "800"});
  WriteSafetensors(File("model.safetensors"), {{"w", "F32", {2}, Floats({1, 2})}},
                   R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                       "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "overlap"});
  WriteSafetensors(File("model.safetensors"), {{"w", "F32", {2}, Floats({1, 2})}},
                   R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [8, 0]}})");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"'w'", "backwards"});
  WriteSafetensors(File("model.safetensors"), {{"w", "F32", {2}, Floats({1, 2})}},
                   R"({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}})");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"'w'", "shape"});
}

TEST_F(CheckpointTest, SizeThatDisagreesWithTheShape) {
  WriteSafetensors(File("model.safetensors"), {{"w", "F32", {3}, Floats({1, 2})}});
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kDataLoss, {"model.safetensors", "'w'", "[3]", "12"});
}

TEST_F(CheckpointTest, UnknownDtype) {
  WriteSafetensors(File("model.safetensors"), {{"w", "F8_E4M3", {2}, "ab"}});
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kInvalidArgument, {"model.safetensors", "'w'", "F8_E4M3"});
}

TEST_F(CheckpointTest, MissingTensorAndWrongShape) {
  WriteSafetensors(File("model.safetensors"), {{"w", "BF16", {2, 3}, Bf16({1, 2, 3, 4, 5, 6})}});
  auto ckpt = Checkpoint::Open(Dir());
  ASSERT_TRUE(ckpt.ok());
  ExpectError((*ckpt)->Get("missing.weight").status(), absl::StatusCode::kNotFound, {"missing.weight", Dir()});
  ExpectError((*ckpt)->Get("w", {3, 2}).status(), absl::StatusCode::kInvalidArgument,
              {"'w'", "model.safetensors", "[2, 3]", "[3, 2]"});
  ExpectError(LoadWeightMatrix(**ckpt, "w", 3, 2).status(), absl::StatusCode::kInvalidArgument, {"[2, 3]"});
}

TEST_F(CheckpointTest, ConfigProblems) {
  fs::remove(File("config.json"));
  WriteSafetensors(File("model.safetensors"), {});
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kNotFound, {"config.json"});
  WriteConfig("{\"model_type\": ");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kInvalidArgument, {"config.json", "JSON"});
  WriteConfig(R"({"model_type": "llama"})");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kInvalidArgument, {"config.json", "llama"});
  WriteConfig(R"([])");
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kInvalidArgument, {"config.json"});
}

TEST_F(CheckpointTest, MissingWeightsAndDirectory) {
  ExpectError(Checkpoint::Open(Dir()).status(), absl::StatusCode::kNotFound, {"model.safetensors", Dir()});
  ExpectError(Checkpoint::Open(Dir() + "/nope").status(), absl::StatusCode::kNotFound, {"nope"});
}

TEST(BundledCheckpointTest, TextCoreSeesOnlyItsTensors) {
  auto ckpt = Checkpoint::Open(testing::TinyModelDir(), {"model.language_model."});
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  auto embed = (*ckpt)->Get("model.language_model.embed_tokens.weight", {528, 128});
  ASSERT_TRUE(embed.ok()) << embed.status();
  EXPECT_EQ(embed->dtype, DType::kBF16);
  for (const auto& name : (*ckpt)->TensorNames()) {
    EXPECT_EQ(name.rfind("model.language_model.", 0), 0u) << name;
  }
  // bf16 widening is exact: compare with the bits shifted by hand.
  const auto values = ToF32Vector(*embed);
  for (int i : {0, 1, 1000, 67583}) {
    uint16_t bits;
    std::memcpy(&bits, embed->data + 2 * i, 2);
    const uint32_t wide = static_cast<uint32_t>(bits) << 16;
    float expected;
    std::memcpy(&expected, &wide, 4);
    EXPECT_EQ(values[i], expected);
  }
}

TEST(NpyTest, RoundTripAndBadFiles) {
  const std::string path = ::testing::TempDir() + "/t.npy";
  ASSERT_TRUE(WriteNpyF32(path, {1, 2, 3, 4, 5, 6}, {2, 1, 3}).ok());
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(bytes.substr(0, 6), "\x93NUMPY");
  const uint16_t header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  EXPECT_EQ((10 + header_len) % 64, 0);
  EXPECT_NE(bytes.find("'shape': (2, 1, 3)"), std::string::npos);
  auto back = ReadNpyAsF32(path);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->shape, (std::vector<int64_t>{2, 1, 3}));
  EXPECT_EQ(back->data, (std::vector<float>{1, 2, 3, 4, 5, 6}));

  ASSERT_TRUE(WriteNpyF32(path, {7}, {1}).ok());
  auto one = ReadNpyAsF32(path);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->shape, (std::vector<int64_t>{1}));

  EXPECT_FALSE(WriteNpyF32(path, {1, 2}, {3}).ok());
  EXPECT_FALSE(WriteNpyF32("/nonexistent/dir/x.npy", {1}, {1}).ok());
  std::ofstream(path) << "not npy";
  EXPECT_NE(ReadNpyAsF32(path).status().message().find("t.npy"), std::string::npos);
  ASSERT_TRUE(WriteNpyF32(path, {1, 2, 3}, {3}).ok());
  fs::resize_file(path, fs::file_size(path) - 2);
  EXPECT_NE(ReadNpyAsF32(path).status().message().find("truncated"), std::string::npos);
}

}  // namespace
}  // namespace gemma3n
