// The int8 / int4 weight cache on a copy of the tiny checkpoint: written at
// the first load, mapped at the next (bitwise the same logits), ignored and
// rewritten when corrupt or stale, and never a reason for a load to fail.
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/checkpoint/checkpoint.h"
#include "common/checkpoint/safetensors_file.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/golden.h"
#include "text_worker/model/text_model.h"
#include "common/kernels/weight_cache_file.h"

namespace gemma3n {
namespace {

// The kernels' threads here: two, so the parallel split runs on any machine.
ThreadPool& Pool() {
  static ThreadPool pool(2);
  return pool;
}

namespace fs = std::filesystem;

class TextWeightCacheTest : public ::testing::TestWithParam<WeightFormat> {
 protected:
  void SetUp() override {
    // Tests run in parallel processes: a directory of this process's own.
    const std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    root_ = fs::temp_directory_path() /
            absl::StrCat("gemma3n-weight-cache-test-", getpid(), "-", absl::StrReplaceAll(test, {{"/", "-"}}));
    fs::remove_all(root_);
    fs::create_directories(root_);
    model_ = root_ / "model";
    fs::copy(testing::TinyModelDir(), model_, fs::copy_options::recursive);
    fs::remove_all(model_ / "gemma3n-cache");  // should a run have left one in the source tree
    // The fallback location must not be the user's cache.
    setenv("XDG_CACHE_HOME", (root_ / "xdg").c_str(), 1);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  WeightFormat format() const { return GetParam(); }
  std::string DefaultCacheFile() const {
    return (model_ / "gemma3n-cache" / absl::StrCat("text-", WeightFormatName(format()), ".safetensors")).string();
  }

  std::unique_ptr<TextModel> Load(const std::string& cache_dir = "", bool preload = false) {
    TextModel::Options options;
    options.weights = format();
    options.weight_cache_dir = cache_dir;
    options.preload_weights = preload;
    auto model = TextModel::Load(model_.string(), options);
    EXPECT_TRUE(model.ok()) << model.status();
    return model.ok() ? *std::move(model) : nullptr;
  }

  // All-position logits of a short prompt, compared bit for bit.
  static std::vector<float> Logits(const TextModel& model) {
    const std::vector<int> ids = {2, 6, 329, 17, 42, 108, 500};
    auto cache = model.NewCache(ids.size());
    auto out = model.Forward(*cache, ids, LogitsFor::kAll);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.ok() ? out->logits : std::vector<float>{};
  }
  static bool BitwiseEqual(const std::vector<float>& a, const std::vector<float>& b) {
    return !a.empty() && a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
  }

  // Logits of a load that converts and caches nothing.
  std::vector<float> Reference() {
    auto model = Load("none");
    return model ? Logits(*model) : std::vector<float>{};
  }

  // Loads and expects the cache at `path` to be written (not read).
  void ExpectConvertedAndWritten(const std::string& path, const std::vector<float>& reference) {
    auto model = Load();
    ASSERT_NE(model, nullptr);
    EXPECT_FALSE(model->weight_cache().from_cache);
    EXPECT_TRUE(model->weight_cache().written);
    EXPECT_EQ(model->weight_cache().path, path);
    EXPECT_TRUE(BitwiseEqual(Logits(*model), reference));
  }
  void ExpectFromCache(const std::string& path, const std::vector<float>& reference) {
    auto model = Load();
    ASSERT_NE(model, nullptr);
    EXPECT_TRUE(model->weight_cache().from_cache);
    EXPECT_FALSE(model->weight_cache().written);
    EXPECT_EQ(model->weight_cache().path, path);
    EXPECT_TRUE(BitwiseEqual(Logits(*model), reference));
  }

  fs::path root_, model_;
};

TEST_P(TextWeightCacheTest, WrittenAtTheFirstLoadThenMapped) {
  const std::vector<float> reference = Reference();
  ASSERT_FALSE(reference.empty());
  EXPECT_FALSE(fs::exists(model_ / "gemma3n-cache"));  // "none" writes nothing

  ExpectConvertedAndWritten(DefaultCacheFile(), reference);
  // Only the cache file: no temporary file left behind.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(model_ / "gemma3n-cache")) files.push_back(e.path().string());
  EXPECT_EQ(files, std::vector<std::string>{DefaultCacheFile()});

  // A writer killed mid-write leaves a temporary file: removed by the next
  // writer once old enough, never while it may still be written.
  const fs::path old_tmp = fs::path(DefaultCacheFile()).parent_path() /
                           ("." + fs::path(DefaultCacheFile()).filename().string() + ".AbCdEf");
  const fs::path new_tmp = fs::path(old_tmp).replace_extension(".GhIjKl");
  std::ofstream(old_tmp.string()) << "half";
  std::ofstream(new_tmp.string()) << "being written";
  fs::last_write_time(old_tmp, fs::file_time_type::clock::now() - std::chrono::hours(1));

  ExpectFromCache(DefaultCacheFile(), reference);
  // A model keeps its mapping: the file may be removed and written again.
  auto mapped = Load();
  ASSERT_NE(mapped, nullptr);
  ASSERT_TRUE(mapped->weight_cache().from_cache);
  fs::remove(DefaultCacheFile());
  ExpectConvertedAndWritten(DefaultCacheFile(), reference);
  EXPECT_TRUE(BitwiseEqual(Logits(*mapped), reference));
  EXPECT_FALSE(fs::exists(old_tmp));
  EXPECT_TRUE(fs::exists(new_tmp));
}

TEST_P(TextWeightCacheTest, CopiedIntoMemoryWithPreload) {
  const std::vector<float> reference = Reference();
  ExpectConvertedAndWritten(DefaultCacheFile(), reference);
  auto model = Load("", /*preload=*/true);
  ASSERT_NE(model, nullptr);
  EXPECT_TRUE(model->weight_cache().from_cache);
  fs::remove(DefaultCacheFile());  // copied: the file is no longer needed
  EXPECT_TRUE(BitwiseEqual(Logits(*model), reference));
}

TEST_P(TextWeightCacheTest, CorruptCacheIsIgnoredAndRewritten) {
  const std::vector<float> reference = Reference();
  const std::string path = DefaultCacheFile();
  ExpectConvertedAndWritten(path, reference);
  const uintmax_t size = fs::file_size(path);
  const auto overwrite = [&](uintmax_t at, const std::string& bytes) {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  };
  struct Corruption {
    const char* what;
    std::function<void()> apply;
  };
  const std::vector<Corruption> corruptions = {
      {"truncated to half", [&] { fs::resize_file(path, size / 2); }},
      {"truncated by one byte", [&] { fs::resize_file(path, size - 1); }},
      {"empty", [&] { fs::resize_file(path, 0); }},
      {"header length flipped", [&] { overwrite(0, "\xff\xff\xff\xff"); }},
      {"header JSON broken", [&] { overwrite(9, "}}}}"); }},
      {"random bytes", [&] { std::ofstream(path, std::ios::binary | std::ios::trunc) << std::string(4096, '\x5a'); }},
  };
  for (const Corruption& c : corruptions) {
    SCOPED_TRACE(c.what);
    c.apply();
    ExpectConvertedAndWritten(path, reference);
    EXPECT_EQ(fs::file_size(path), size);
    ExpectFromCache(path, reference);
  }
}

TEST_P(TextWeightCacheTest, ChangedCheckpointInvalidatesTheCache) {
  const std::vector<float> reference = Reference();
  const std::string path = DefaultCacheFile();
  const fs::path weights = model_ / "model.safetensors";
  ExpectConvertedAndWritten(path, reference);

  // A newer mtime.
  const auto mtime = fs::last_write_time(weights);
  fs::last_write_time(weights, mtime + std::chrono::seconds(1));
  ExpectConvertedAndWritten(path, reference);
  ExpectFromCache(path, reference);

  // Another size with the same mtime (trailing bytes the reader ignores).
  const auto same = fs::last_write_time(weights);
  std::ofstream(weights, std::ios::binary | std::ios::app) << std::string(64, '\0');
  fs::last_write_time(weights, same);
  ExpectConvertedAndWritten(path, reference);

  // Another config.json (an extra key the parser ignores).
  nlohmann::json config = *ReadJsonFile((model_ / "config.json").string());
  config["weight_cache_test"] = 1;
  std::ofstream((model_ / "config.json").string(), std::ios::trunc) << config.dump(2);
  ExpectConvertedAndWritten(path, reference);
  ExpectFromCache(path, reference);
}

TEST_P(TextWeightCacheTest, OtherFormatsCacheIsNotTaken) {
  const std::vector<float> reference = Reference();
  const std::string path = DefaultCacheFile();
  ExpectConvertedAndWritten(path, reference);
  // The other format's file under this format's name: the header says so.
  TextModel::Options options;
  options.weights = format() == WeightFormat::kInt8 ? WeightFormat::kInt4 : WeightFormat::kInt8;
  options.weight_cache_dir = (root_ / "other").string();
  auto other = TextModel::Load(model_.string(), options);
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->weight_cache().written);
  fs::copy_file((*other)->weight_cache().path, path, fs::copy_options::overwrite_existing);
  ExpectConvertedAndWritten(path, reference);
}

TEST_P(TextWeightCacheTest, CachedWeightsComeFromTheCacheNotTheCheckpoint) {
  const std::vector<float> reference = Reference();
  const std::string path = DefaultCacheFile();
  ExpectConvertedAndWritten(path, reference);
  // Zero the bf16 bytes of every cached matrix in the checkpoint, keeping its
  // size and mtime: a load from the cache must not notice.
  const fs::path weights = model_ / "model.safetensors";
  const auto mtime = fs::last_write_time(weights);
  std::vector<std::pair<uint64_t, uint64_t>> ranges;  // file offsets
  {
    std::ifstream in(weights, std::ios::binary);
    uint64_t header_len = 0;
    in.read(reinterpret_cast<char*>(&header_len), 8);
    std::string text(header_len, ' ');
    in.read(text.data(), static_cast<std::streamsize>(header_len));
    const nlohmann::json header = nlohmann::json::parse(text);
    auto cache = SafetensorsFile::Open(path);
    ASSERT_TRUE(cache.ok()) << cache.status();
    for (const auto& [name, t] : (*cache)->tensors()) {
      if (name.size() > 7 && name.compare(name.size() - 7, 7, ".scales") == 0) continue;
      const auto& offsets = header.at(name).at("data_offsets");
      ranges.emplace_back(8 + header_len + offsets[0].get<uint64_t>(), 8 + header_len + offsets[1].get<uint64_t>());
    }
  }
  ASSERT_FALSE(ranges.empty());
  {
    std::fstream f(weights, std::ios::in | std::ios::out | std::ios::binary);
    for (const auto& [begin, end] : ranges) {
      f.seekp(static_cast<std::streamoff>(begin));
      const std::string zeros(end - begin, '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
  }
  fs::last_write_time(weights, mtime);
  ExpectFromCache(path, reference);
}

TEST_P(TextWeightCacheTest, UnwritableCacheDirectoryStillLoads) {
  const std::vector<float> reference = Reference();
  std::ofstream((root_ / "a-file").string()) << "not a directory";
  // Even root cannot create a directory under a regular file.
  auto model = Load((root_ / "a-file" / "cache").string());
  ASSERT_NE(model, nullptr);
  EXPECT_FALSE(model->weight_cache().from_cache);
  EXPECT_FALSE(model->weight_cache().written);
  EXPECT_TRUE(model->weight_cache().path.empty());
  EXPECT_TRUE(BitwiseEqual(Logits(*model), reference));
}

TEST_P(TextWeightCacheTest, ReadOnlyModelDirectoryFallsBackToTheUserCache) {
  const std::vector<float> reference = Reference();
  // <model>/gemma3n-cache cannot be created: a file has its name.
  std::ofstream((model_ / "gemma3n-cache").string()) << "in the way";
  auto first = Load();
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->weight_cache().written);
  const std::string path = first->weight_cache().path;
  EXPECT_EQ(path.rfind((root_ / "xdg" / "gemma3n-grpc" / "weights" / "model-").string(), 0), 0u) << path;
  EXPECT_TRUE(BitwiseEqual(Logits(*first), reference));
  ExpectFromCache(path, reference);
}

TEST_P(TextWeightCacheTest, ExplicitDirectory) {
  const std::vector<float> reference = Reference();
  auto first = Load((root_ / "cache").string());
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(first->weight_cache().written);
  const std::string path = first->weight_cache().path;
  EXPECT_EQ(path.rfind((root_ / "cache" / "model-").string(), 0), 0u) << path;
  EXPECT_FALSE(fs::exists(model_ / "gemma3n-cache"));
  auto second = Load((root_ / "cache").string());
  ASSERT_NE(second, nullptr);
  EXPECT_TRUE(second->weight_cache().from_cache);
  EXPECT_EQ(second->weight_cache().path, path);
  EXPECT_TRUE(BitwiseEqual(Logits(*second), reference));
}

// The file layer alone: a cache is taken only for exactly its matrix list.
TEST(TextWeightCacheFileTest, TakenOnlyForExactlyItsMatrices) {
  const fs::path dir = fs::temp_directory_path() / absl::StrCat("gemma3n-weight-cache-file-test-", getpid());
  const std::string path = (dir / "c.safetensors").string();
  const auto matrix = [](int64_t rows, int64_t cols, float seed) {
    WeightMatrix f32;
    f32.rows = rows;
    f32.cols = f32.stride = cols;
    f32.owned = std::make_shared<std::vector<float>>(rows * cols);
    for (int64_t i = 0; i < rows * cols; ++i) (*f32.owned)[i] = std::sin(seed * (i + 1));
    f32.data = f32.owned->data();
    return *QuantizeInt8(Pool(), f32, false);
  };
  WeightMatrix a = matrix(3, 64, 0.3f), b = matrix(5, 32, 0.7f);
  ASSERT_TRUE(WriteWeightCache(path, "k", WeightFormat::kInt8, {{"a", &a}, {"b", &b}}).ok());

  // As loaded from a checkpoint: shapes only.
  const auto shaped = [](int64_t rows, int64_t cols) {
    WeightMatrix m;
    m.format = WeightMatrix::Format::kBF16;
    m.rows = rows;
    m.cols = m.stride = cols;
    return m;
  };
  WeightMatrix a2 = shaped(3, 64), b2 = shaped(5, 32), c2 = shaped(1, 32), b_wide = shaped(5, 64);
  EXPECT_EQ(ReadWeightCache(path, "k", WeightFormat::kInt8, {{"a", &a2}}, false).code(),
            absl::StatusCode::kFailedPrecondition);  // a matrix less
  EXPECT_EQ(ReadWeightCache(path, "k", WeightFormat::kInt8, {{"a", &a2}, {"b", &b2}, {"c", &c2}}, false).code(),
            absl::StatusCode::kFailedPrecondition);  // a matrix more
  EXPECT_EQ(ReadWeightCache(path, "k", WeightFormat::kInt8, {{"a", &a2}, {"b", &b_wide}}, false).code(),
            absl::StatusCode::kFailedPrecondition);  // another shape
  EXPECT_EQ(ReadWeightCache(path, "k", WeightFormat::kInt8, {{"a", &a2}, {"c", &c2}}, false).code(),
            absl::StatusCode::kFailedPrecondition);  // another name
  EXPECT_EQ(ReadWeightCache(path, "other", WeightFormat::kInt8, {{"a", &a2}, {"b", &b2}}, false).code(),
            absl::StatusCode::kFailedPrecondition);  // another key
  EXPECT_EQ(ReadWeightCache(path, "k", WeightFormat::kInt4, {{"a", &a2}, {"b", &b2}}, false).code(),
            absl::StatusCode::kFailedPrecondition);  // another format
  EXPECT_EQ(ReadWeightCache((dir / "missing").string(), "k", WeightFormat::kInt8, {{"a", &a2}}, false).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(a2.format, WeightMatrix::Format::kBF16);  // untouched by a refusal

  ASSERT_TRUE(ReadWeightCache(path, "k", WeightFormat::kInt8, {{"a", &a2}, {"b", &b2}}, false).ok());
  for (const auto& [want, got] : {std::pair{&a, &a2}, std::pair{&b, &b2}}) {
    EXPECT_EQ(got->format, WeightMatrix::Format::kInt8);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(got->data) % 64, 0u);
    EXPECT_EQ(std::memcmp(got->data, want->data, want->rows * want->cols), 0);
    EXPECT_EQ(std::memcmp(got->scales, want->scales, want->rows * want->cols / kInt8Block * sizeof(float)), 0);
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Formats, TextWeightCacheTest, ::testing::Values(WeightFormat::kInt8, WeightFormat::kInt4),
                         [](const auto& info) { return std::string(WeightFormatName(info.param)); });

}  // namespace
}  // namespace gemma3n
