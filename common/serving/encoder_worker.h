// What the vision and audio workers share: a media encoder behind
// gemma3n.internal.v1.{Vision,Audio}Encoder.Encode and the process around it
// (flags, logging, server, clean stop). Each worker supplies its backend.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/kernels/thread_pool.h"
#include "absl/status/statusor.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"

namespace gemma3n {

// Soft tokens of one span: [rows, width] f32.
struct EncodedSpan {
  int rows = 0;
  int width = 0;
  std::vector<float> values;
};

class MediaEncoderBackend {
 public:
  virtual ~MediaEncoderBackend() = default;
  // INVALID_ARGUMENT for media that cannot be decoded or used.
  virtual absl::StatusOr<std::vector<EncodedSpan>> Encode(const std::string& bytes, const std::string& mime,
                                                          int image_size) const = 0;
};

// Encodes one request at a time (each already uses every core) and logs one
// line per request. `cancelled` is asked once the request's turn comes: a
// request whose client gave up while it waited (cancelled, past its
// deadline) is not encoded, so abandoned work does not delay the next.
absl::Status EncodeToProto(const MediaEncoderBackend& backend, std::mutex& mu, const std::string& kind,
                           const gemma3n::internal::v1::EncodeRequest& request,
                           gemma3n::internal::v1::EncodeResponse* response, const std::function<bool()>& cancelled);

struct EncoderWorkerFlags {
  std::string model_dir;
  int image_size = 0;  // vision only: --image-size
  ThreadPool* pool = nullptr;  // --threads of them, for the process's life
};

// main() of an encoder worker: parses --model, --listen, --threads,
// --log-level (and --image-size for vision), loads the backend, serves until
// SIGINT/SIGTERM. kind: "vision" or "audio".
int RunEncoderWorker(int argc, char** argv, const std::string& kind,
                     const std::function<absl::StatusOr<std::unique_ptr<MediaEncoderBackend>>(
                         const EncoderWorkerFlags&)>& load);

}  // namespace gemma3n
