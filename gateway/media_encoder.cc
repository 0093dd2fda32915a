#include "gateway/media_encoder.h"

#include <future>

#include "absl/strings/str_cat.h"
#include "common/rpc/status.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"

namespace gemma3n {

namespace ipb = gemma3n::internal::v1;

namespace {

absl::StatusOr<EncodedMedia> EncodeOne(const MediaPart& part, size_t index, const EncoderPools& pools,
                                       const grpc::ServerContext& server_context,
                                       std::chrono::system_clock::time_point deadline) {
  const bool image = part.kind == EncodedMedia::Kind::kImage;
  const WorkerPool* pool = image ? pools.vision : pools.audio;
  if (!pool || !pool->configured()) {
    return absl::UnavailableError(absl::StrCat("this request has ", image ? "an image" : "audio", " but no ",
                                               image ? "vision" : "audio", " worker is configured"));
  }
  std::vector<const WorkerInstance*> failed;
  int starts = 0;  // on demand: a worker that stopped just as it was picked is asked for once more
  for (;;) {
    absl::StatusOr<const WorkerInstance*> w = pool->Pick(failed);
    if (!w.ok() && pools.on_demand && starts < 2) {
      ++starts;
      if (absl::Status s = pools.on_demand->StartAndWait(*pool, deadline, server_context); !s.ok()) return s;
      failed.clear();
      continue;
    }
    if (!w.ok()) return w.status();
    ipb::EncodeRequest req;
    req.set_data(part.media->data());
    req.set_mime_type(part.media->mime_type());
    if (image) req.set_image_size(pools.image_size);
    ipb::EncodeResponse resp;
    auto ctx = grpc::ClientContext::FromServerContext(server_context);
    ctx->set_deadline(deadline);  // the earlier of this and the client's counts
    const WorkerCall tracked(**w, ctx.get());
    grpc::Status s = image ? ipb::VisionEncoder::NewStub((*w)->channel)->Encode(ctx.get(), req, &resp)
                           : ipb::AudioEncoder::NewStub((*w)->channel)->Encode(ctx.get(), req, &resp);
    // Died under us, or stopped answering (the call was cut off): try another.
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE || (tracked.cut_off() && !server_context.IsCancelled())) {
      failed.push_back(*w);
      continue;
    }
    if (!s.ok()) {
      const absl::Status status = FromGrpcStatus(s);
      return absl::Status(status.code(), absl::StrCat(image ? "image" : "audio", " part ", index, ": ",
                                                      status.message()));
    }
    EncodedMedia out;
    out.kind = part.kind;
    out.spans.assign(resp.spans().begin(), resp.spans().end());
    return out;
  }
}

}  // namespace

absl::StatusOr<std::vector<EncodedMedia>> EncodeMedia(const std::vector<MediaPart>& parts, const EncoderPools& pools,
                                                      const grpc::ServerContext& context,
                                                      std::chrono::system_clock::time_point deadline) {
  std::vector<std::future<absl::StatusOr<EncodedMedia>>> pending;
  for (size_t i = 0; i < parts.size(); ++i) {
    pending.push_back(std::async(std::launch::async, [&, i] { return EncodeOne(parts[i], i, pools, context, deadline); }));
  }
  std::vector<EncodedMedia> out;
  absl::Status first_error;
  for (auto& f : pending) {
    absl::StatusOr<EncodedMedia> r = f.get();
    if (!r.ok() && first_error.ok()) first_error = r.status();
    if (r.ok()) out.push_back(*std::move(r));
  }
  if (!first_error.ok()) return first_error;
  return out;
}

}  // namespace gemma3n
