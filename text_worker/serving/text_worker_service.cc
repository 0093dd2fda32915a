#include "text_worker/serving/text_worker_service.h"

#include <chrono>
#include <cstring>
#include <set>

#include "absl/strings/str_cat.h"
#include "common/process/proc_status.h"
#include "common/request/generation_proto.h"
#include "common/rpc/status.h"
#include "common/serving/text_finish.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace pb = gemma3n::internal::v1;

TextWorkerService::TextWorkerService(const TextModel& model, std::string model_dir, BatchScheduler& scheduler,
                                     const PlanRegistry& plans, std::function<bool()> ple_attached)
    : model_(model),
      model_dir_(std::move(model_dir)),
      scheduler_(scheduler),
      plans_(plans),
      ple_attached_(std::move(ple_attached)) {}

absl::StatusOr<SequenceRequest> TextWorkerService::ToSequenceRequest(const pb::TextGenerateRequest& r) const {
  SequenceRequest s;
  s.id = r.request_id();
  s.prompt.assign(r.prompt_ids().begin(), r.prompt_ids().end());
  s.stop_ids.assign(r.stop_ids().begin(), r.stop_ids().end());
  // A direct caller is held to the same rules as the gateway's clients.
  ASSIGN_OR_RETURN(GenerationParams params, ValidateGeneration(SettingsFromInternal(r), kDefaultMaxNewTokens));
  s.max_new_tokens = params.max_new_tokens;
  s.sampling = params.sampling;
  ASSIGN_OR_RETURN(s.plan, plans_.Find(r.profile()));
  const int64_t hidden = model_.text_config().hidden_size;
  for (const pb::SoftTokenSpan& span : r.soft_tokens()) {
    const pb::SoftTokens& t = span.tokens();
    if (t.width() != hidden || t.rows() < 0 ||
        t.f32().size() != static_cast<size_t>(t.rows()) * t.width() * sizeof(float)) {
      return absl::InvalidArgumentError(absl::StrCat("soft tokens must be [rows, ", hidden, "] f32; got rows ",
                                                     t.rows(), ", width ", t.width(), ", ", t.f32().size(),
                                                     " bytes"));
    }
    const size_t first = s.soft.rows.size();
    s.soft.rows.resize(first + static_cast<size_t>(t.rows()) * hidden);
    std::memcpy(s.soft.rows.data() + first, t.f32().data(), t.f32().size());
    for (int i = 0; i < t.rows(); ++i) s.soft.positions.push_back(span.position() + i);
  }
  return s;
}

grpc::Status TextWorkerService::Generate(grpc::ServerContext* context, const pb::TextGenerateRequest* request,
                                         grpc::ServerWriter<pb::TextGenerateResponse>* writer) {
  absl::StatusOr<SequenceRequest> seq = ToSequenceRequest(*request);
  if (!seq.ok()) return ToGrpcStatus(seq.status());
  absl::StatusOr<std::shared_ptr<SequenceStream>> stream = scheduler_.Submit(*std::move(seq));
  if (!stream.ok()) return ToGrpcStatus(stream.status());
  for (;;) {
    // Short waits so a cancelled call or an expired deadline is noticed fast.
    SequenceUpdate u = (*stream)->Wait(std::chrono::milliseconds(20));
    if (context->IsCancelled()) {
      (*stream)->Cancel();
      return grpc::Status(grpc::StatusCode::CANCELLED, "cancelled");
    }
    if (!u.tokens.empty() || u.done) {
      pb::TextGenerateResponse out;
      out.mutable_token_ids()->Add(u.tokens.begin(), u.tokens.end());
      out.set_cached_prompt_tokens(u.cached_prompt_tokens);
      if (u.done) {
        if (!u.status.ok()) return ToGrpcStatus(u.status);
        out.set_finish(ToTextFinish(u.finish));
        out.set_prompt_tokens(u.prompt_tokens);
        out.set_prefill_seconds(u.prefill_seconds);
      }
      if (!writer->Write(out)) {
        (*stream)->Cancel();
        return grpc::Status(grpc::StatusCode::CANCELLED, "the client went away");
      }
      if (u.done) return grpc::Status::OK;
    }
  }
}

grpc::Status TextWorkerService::GetInfo(grpc::ServerContext*, const pb::TextWorkerInfoRequest*,
                                        pb::TextWorkerInfo* info) {
  const SchedulerStats s = scheduler_.stats();
  info->set_model_dir(model_dir_);
  info->set_active_sequences(s.active);
  info->set_kv_cache_bytes(s.kv_cache_bytes);
  info->set_max_sequences(scheduler_.max_sequences());
  info->set_context_limit(static_cast<int32_t>(scheduler_.context_limit()));
  info->set_ple_attached(ple_attached_ ? ple_attached_() : false);
  info->set_decode_steps(s.steps);
  info->set_batched_rows(s.rows);
  info->set_max_batch(s.max_batch);
  for (const std::string& name : model_.checkpoint().AccessedTensors()) info->add_mapped_tensors(name);
  for (const std::string& name : plans_.names()) info->add_profiles(name);
  info->set_resident_bytes(static_cast<int64_t>(ProcStatusGb("VmRSS") * 1e9));
  return grpc::Status::OK;
}

}  // namespace gemma3n
