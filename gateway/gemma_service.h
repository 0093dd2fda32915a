// gemma3n.v1.Gemma, the public API: tokenizes with the chat template, has the
// encoders turn media into soft tokens, streams the text worker's tokens back
// as UTF-8-safe text with stop strings, usage and one log line per request.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "common/config/model_config.h"
#include "common/metrics/registry.h"
#include "common/rpc/api_keys.h"
#include "common/request/generation_params.h"
#include "common/tokenizer/tokenizer.h"
#include "gateway/admission.h"
#include "gateway/media_encoder.h"
#include "gateway/public_service.h"
#include "gateway/reply_stream.h"
#include "gateway/worker_pool.h"
#include "gemma3n/v1/gemma.grpc.pb.h"

namespace gemma3n {

inline constexpr std::chrono::seconds kDefaultRequestTimeout{1800};

struct GatewayOptions {
  int64_t context_limit = kGemma3nContextTokens;   // prompt + generated tokens
  int default_max_new_tokens = kDefaultMaxNewTokens;
  int image_size = 0;              // passed to the vision workers; 0 = theirs
  std::string ple_address;         // shown in GetModelInfo only
  // A request whose client set no earlier deadline ends DEADLINE_EXCEEDED
  // after this long (waiting for a slot included); 0 = no limit.
  std::chrono::seconds request_timeout{kDefaultRequestTimeout};
  ApiKeys api_keys;                // none: open (the default, on loopback)
  // Encoders started on demand by serve (--on-demand-control); null: the
  // workers given are all there is.
  std::shared_ptr<const OnDemandStarter> on_demand;
};

class GemmaService final : public PublicGemmaService {
 public:
  using Deadline = std::chrono::system_clock::time_point;
  GemmaService(const ModelConfig& config, const Tokenizer& tokenizer, const WorkerPool& text,
               const WorkerPool& vision, const WorkerPool& audio, Admission& admission, GatewayOptions options);

  grpc::Status Generate(grpc::ServerContext* context, const gemma3n::v1::GenerateRequest* request,
                        grpc::ServerWriter<gemma3n::v1::GenerateResponse>* writer) override;
  grpc::Status CountTokens(grpc::ServerContext* context, const gemma3n::v1::CountTokensRequest* request,
                           gemma3n::v1::CountTokensResponse* response) override;
  grpc::Status GetModelInfo(grpc::ServerContext* context, const gemma3n::v1::GetModelInfoRequest* request,
                            gemma3n::v1::ModelInfo* info) override;
  // In gateway/transcribe.cc.
  grpc::Status Transcribe(grpc::ServerContext* context, const gemma3n::v1::TranscribeRequest* request,
                          gemma3n::v1::TranscribeResponse* response) override;

 private:
  // The calls, counted and timed by the public methods (gateway/call_metrics.h).
  grpc::Status GenerateCall(grpc::ServerContext* context, const gemma3n::v1::GenerateRequest* request,
                            grpc::ServerWriterInterface<gemma3n::v1::GenerateResponse>* writer);
  grpc::Status CountTokensCall(grpc::ServerContext* context, const gemma3n::v1::CountTokensRequest* request,
                               gemma3n::v1::CountTokensResponse* response);
  grpc::Status GetModelInfoCall(grpc::ServerContext* context, const gemma3n::v1::GetModelInfoRequest* request,
                                gemma3n::v1::ModelInfo* info);
  grpc::Status TranscribeCall(grpc::ServerContext* context, const gemma3n::v1::TranscribeRequest* request,
                              gemma3n::v1::TranscribeResponse* response);
  // The request's settings and stop strings, checked (INVALID_ARGUMENT naming the field).
  absl::StatusOr<GenerationParams> ValidateConfig(const gemma3n::v1::GenerationConfig& config) const;
  // A slot, in line behind earlier requests until the client gives up (it
  // cancels, or its deadline passes: gRPC cancels the call then) or the
  // server's request timeout passes.
  absl::Status WaitForSlot(grpc::ServerContext* context, Deadline deadline);
  // `parts`: CollectMedia(messages), which the caller ran (CountTokens needs
  // them before deciding whether to wait for a slot).
  absl::StatusOr<BuiltPrompt> Prepare(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages,
                                      const std::vector<MediaPart>& parts, const std::string& prompt,
                                      const grpc::ServerContext& context, Deadline deadline) const;
  // The encoders of this gateway, for EncodeMedia.
  EncoderPools Encoders() const { return {&vision_, &audio_, options_.image_size, options_.on_demand.get()}; }
  // When a request must end: the client's deadline, or the server's
  // request timeout from now when that comes first.
  Deadline RequestDeadline(const grpc::ServerContext& context) const;
  // One window of a recording: the prompt with that span only, generated
  // and collected. In gateway/transcribe.cc.
  absl::StatusOr<gemma3n::v1::GenerateResponse> TranscribeWindow(
      grpc::ServerContext* context, Deadline deadline, const gemma3n::v1::GenerateRequest& request,
      const GenerationParams& params, const gemma3n::internal::v1::SoftTokens& span, const std::string& id);
  // What the text worker is asked to run for a request.
  gemma3n::internal::v1::TextGenerateRequest TextRequest(const gemma3n::v1::GenerationConfig& cfg,
                                                         const GenerationParams& params, const BuiltPrompt& prompt,
                                                         const std::string& id) const;
  // Streams the reply from the next text worker that is up; one that is
  // unavailable before its first message is replaced by another.
  absl::Status Stream(grpc::ServerContext* context, Deadline deadline, const gemma3n::v1::GenerateRequest& request,
                      const GenerationParams& params, const BuiltPrompt& prompt,
                      grpc::ServerWriterInterface<gemma3n::v1::GenerateResponse>* writer, const std::string& id);
  struct Attempt {
    absl::Status status;
    bool worker_unavailable = false;  // before any message: try another instance
  };
  // The whole reply from one worker: the client's messages, then the final one.
  Attempt StreamFrom(const WorkerInstance& worker, grpc::ServerContext* context, Deadline deadline,
                     const gemma3n::internal::v1::TextGenerateRequest& req, ReplyStream& reply,
                     grpc::ServerWriterInterface<gemma3n::v1::GenerateResponse>* writer, const std::string& id) const;

  const ModelConfig& config_;
  const Tokenizer& tokenizer_;
  const WorkerPool& text_;
  const WorkerPool& vision_;
  const WorkerPool& audio_;
  Admission& admission_;
  const GatewayOptions options_;
  std::atomic<uint64_t> next_id_{1};
  std::vector<metrics::SampledGauge> admission_gauges_;  // last: ends before what it reads
};

}  // namespace gemma3n
