// gemma3n.internal.v1.TextWorker: prompt ids (+ soft-token rows from the
// encoders) in, a stream of generated token ids out, through the batch
// scheduler. A cancelled or expired call cancels its sequence.
#pragma once

#include <functional>
#include <string>

#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "text_worker/model/text_model.h"
#include "text_worker/serving/batch_scheduler.h"
#include "text_worker/serving/plan_registry.h"

namespace gemma3n {

class TextWorkerService final : public gemma3n::internal::v1::TextWorker::Service {
 public:
  TextWorkerService(const TextModel& model, std::string model_dir, BatchScheduler& scheduler,
                    const PlanRegistry& plans, std::function<bool()> ple_attached);

  grpc::Status Generate(grpc::ServerContext* context, const gemma3n::internal::v1::TextGenerateRequest* request,
                        grpc::ServerWriter<gemma3n::internal::v1::TextGenerateResponse>* writer) override;
  grpc::Status GetInfo(grpc::ServerContext* context, const gemma3n::internal::v1::TextWorkerInfoRequest* request,
                       gemma3n::internal::v1::TextWorkerInfo* info) override;

 private:
  absl::StatusOr<SequenceRequest> ToSequenceRequest(const gemma3n::internal::v1::TextGenerateRequest& r) const;

  const TextModel& model_;
  const std::string model_dir_;
  BatchScheduler& scheduler_;
  const PlanRegistry& plans_;
  std::function<bool()> ple_attached_;
};

}  // namespace gemma3n
