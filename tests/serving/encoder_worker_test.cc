// The encoder workers' request handling over a fake backend: one request is
// encoded at a time, and one whose client gave up while it waited for its
// turn is not encoded at all (abandoned images must not delay the next).
#include "common/serving/encoder_worker.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"

namespace gemma3n {
namespace {

namespace ipb = gemma3n::internal::v1;
using namespace std::chrono_literals;

class SlowBackend final : public MediaEncoderBackend {
 public:
  absl::StatusOr<std::vector<EncodedSpan>> Encode(const std::string&, const std::string&, int) const override {
    ++encoded;
    std::this_thread::sleep_for(100ms);
    return std::vector<EncodedSpan>{EncodedSpan{1, 2, {0.5f, 1.5f}}};
  }
  mutable std::atomic<int> encoded{0};
};

ipb::EncodeRequest Image() {
  ipb::EncodeRequest r;
  r.set_data("bytes");
  r.set_mime_type("image/png");
  return r;
}

TEST(EncoderWorkerTest, ARequestCancelledWhileWaitingIsNotEncoded) {
  SlowBackend backend;
  std::mutex mu;
  std::atomic<bool> client_gone{false};
  ipb::EncodeResponse first_out, second_out;
  absl::Status first, second;
  std::thread a([&] { first = EncodeToProto(backend, mu, "vision", Image(), &first_out, [] { return false; }); });
  while (backend.encoded.load() == 0) std::this_thread::yield();  // `a` holds the encoder now
  std::thread b([&] {
    second = EncodeToProto(backend, mu, "vision", Image(), &second_out, [&] { return client_gone.load(); });
  });
  client_gone = true;  // b's client gives up while a is being encoded
  a.join();
  b.join();
  EXPECT_TRUE(first.ok()) << first;
  ASSERT_EQ(first_out.spans_size(), 1);
  EXPECT_EQ(first_out.spans(0).rows(), 1);
  EXPECT_EQ(second.code(), absl::StatusCode::kCancelled) << second;
  EXPECT_EQ(backend.encoded.load(), 1);
}

TEST(EncoderWorkerTest, EmptyDataIsInvalidArgument) {
  SlowBackend backend;
  std::mutex mu;
  ipb::EncodeResponse out;
  ipb::EncodeRequest empty;
  EXPECT_EQ(EncodeToProto(backend, mu, "audio", empty, &out, nullptr).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(backend.encoded.load(), 0);
}

}  // namespace
}  // namespace gemma3n
