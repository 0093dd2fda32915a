#include "tests/support/golden.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "gtest/gtest.h"

namespace gemma3n::testing {

std::string TestDataPath(const std::string& relative) { return std::string(GEMMA3N_TEST_DATA_DIR) + "/" + relative; }
std::string TinyModelDir() { return TestDataPath("gemma3n-tiny"); }

GoldenFile::GoldenFile(const std::string& relative_path) {
  auto f = SafetensorsFile::Open(TestDataPath(relative_path));
  if (!f.ok()) {
    ADD_FAILURE() << f.status();
    std::abort();
  }
  file_ = std::move(f).value();
}

bool GoldenFile::Has(const std::string& name) const { return file_->tensors().count(name) > 0; }

std::vector<int64_t> GoldenFile::Shape(const std::string& name) const { return file_->tensors().at(name).shape; }

std::vector<float> GoldenFile::F32(const std::string& name) const {
  const TensorInfo& t = file_->tensors().at(name);
  std::vector<float> out(t.NumElements());
  EXPECT_TRUE(CopyToF32(t, absl::MakeSpan(out)).ok()) << name;
  return out;
}

std::vector<int> GoldenFile::Ids(const std::string& name) const {
  const TensorInfo& t = file_->tensors().at(name);
  EXPECT_EQ(t.dtype, DType::kI64) << name;
  std::vector<int> out(t.NumElements());
  for (size_t i = 0; i < out.size(); ++i) {
    int64_t v;
    std::memcpy(&v, t.data + i * 8, 8);
    out[i] = static_cast<int>(v);
  }
  return out;
}

std::vector<uint8_t> GoldenFile::Bytes(const std::string& name) const {
  const TensorInfo& t = file_->tensors().at(name);
  EXPECT_EQ(t.dtype, DType::kU8) << name;
  return std::vector<uint8_t>(t.data, t.data + t.nbytes);
}

float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return std::numeric_limits<float>::infinity();
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) {
    const float d = std::fabs(a[i] - b[i]);
    if (!(d <= m)) m = d;  // NaN propagates as a failure
  }
  return m;
}

}  // namespace gemma3n::testing
