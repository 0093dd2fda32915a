// Sends a request's images and audio to the encoder workers, all at once
// (each part to the next healthy instance of its kind), and collects their
// soft tokens in order.
#pragma once

#include <chrono>
#include <vector>

#include "absl/status/statusor.h"
#include "gateway/on_demand_starter.h"
#include "gateway/prompt_builder.h"
#include "gateway/worker_pool.h"
#include "grpcpp/server_context.h"

namespace gemma3n {

struct EncoderPools {
  const WorkerPool* vision = nullptr;
  const WorkerPool* audio = nullptr;
  int image_size = 0;  // 0 = each vision worker's default
  const OnDemandStarter* on_demand = nullptr;  // serve starts encoders when asked; null = fixed workers
};

// UNAVAILABLE naming the missing worker kind when no encoder of a needed
// kind is up; the encoders' INVALID_ARGUMENT (a corrupt image...) passes
// through with the part's index. The encoder calls end at `deadline` (the
// request's) and when the client cancels.
absl::StatusOr<std::vector<EncodedMedia>> EncodeMedia(const std::vector<MediaPart>& parts, const EncoderPools& pools,
                                                      const grpc::ServerContext& context,
                                                      std::chrono::system_clock::time_point deadline);

}  // namespace gemma3n
