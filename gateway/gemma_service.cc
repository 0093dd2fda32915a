#include "gateway/gemma_service.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/request/generation_proto.h"
#include "common/metrics/registry.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "gateway/call_metrics.h"
#include "gateway/stop_strings.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;

absl::Status GemmaService::WaitForSlot(grpc::ServerContext* context, Deadline deadline) {
  bool timed_out = false;
  const absl::Status status = admission_.Acquire([&] {
    timed_out = std::chrono::system_clock::now() >= deadline;
    return context->IsCancelled() || timed_out;
  });
  if (!status.ok() && timed_out && !context->IsCancelled()) {
    return absl::DeadlineExceededError("the request timed out waiting for a free slot (the server's --request-timeout-s)");
  }
  return status;
}

GemmaService::GemmaService(const ModelConfig& config, const Tokenizer& tokenizer, const WorkerPool& text,
                           const WorkerPool& vision, const WorkerPool& audio, Admission& admission,
                           GatewayOptions options)
    : config_(config),
      tokenizer_(tokenizer),
      text_(text),
      vision_(vision),
      audio_(audio),
      admission_(admission),
      options_(std::move(options)) {
  metrics::Registry& m = metrics::Process();
  admission_gauges_.push_back(m.Sample(metrics::Metric::kAdmissionQueueDepth, [this] { return admission_.queued(); }));
  admission_gauges_.push_back(m.Sample(metrics::Metric::kRequestsInFlight, [this] { return admission_.active(); }));
}

absl::StatusOr<GenerationParams> GemmaService::ValidateConfig(const pb::GenerationConfig& config) const {
  ASSIGN_OR_RETURN(GenerationParams params,
                   ValidateGeneration(SettingsFromPublic(config), options_.default_max_new_tokens));
  RETURN_IF_ERROR(ValidateStopStrings(config.stop()));
  return params;
}

absl::StatusOr<BuiltPrompt> GemmaService::Prepare(const google::protobuf::RepeatedPtrField<pb::Message>& messages,
                                                  const std::vector<MediaPart>& parts, const std::string& prompt,
                                                  const grpc::ServerContext& context, Deadline deadline) const {
  for (const MediaPart& p : parts) {
    const bool image = p.kind == EncodedMedia::Kind::kImage;
    if (image ? !config_.has_vision : !config_.has_audio) {
      return absl::InvalidArgumentError(absl::StrCat("this model has no ", image ? "vision" : "audio", " tower"));
    }
  }
  RETURN_IF_ERROR(CheckFitsContext(messages, prompt, parts, tokenizer_, config_, options_.context_limit));
  const EncoderPools pools = Encoders();
  ASSIGN_OR_RETURN(std::vector<EncodedMedia> media, EncodeMedia(parts, pools, context, deadline));
  return BuildPrompt(messages, prompt, media, tokenizer_, config_);
}

GemmaService::Deadline GemmaService::RequestDeadline(const grpc::ServerContext& context) const {
  const Deadline client = context.deadline();
  if (options_.request_timeout.count() <= 0) return client;
  return std::min(client, std::chrono::system_clock::now() + options_.request_timeout);
}

grpc::Status GemmaService::Generate(grpc::ServerContext* context, const pb::GenerateRequest* request,
                                    grpc::ServerWriter<pb::GenerateResponse>* writer) {
  const CallMetrics call("Generate", Modality(request->messages()));
  return call.Done(GenerateCall(context, request, writer));
}

grpc::Status GemmaService::CountTokens(grpc::ServerContext* context, const pb::CountTokensRequest* request,
                                       pb::CountTokensResponse* response) {
  const CallMetrics call("CountTokens", Modality(request->messages()));
  return call.Done(CountTokensCall(context, request, response));
}

grpc::Status GemmaService::GetModelInfo(grpc::ServerContext* context, const pb::GetModelInfoRequest* request,
                                        pb::ModelInfo* info) {
  const CallMetrics call("GetModelInfo", "text");
  return call.Done(GetModelInfoCall(context, request, info));
}

grpc::Status GemmaService::GenerateCall(grpc::ServerContext* context, const pb::GenerateRequest* request,
                                        grpc::ServerWriterInterface<pb::GenerateResponse>* writer) {
  if (absl::Status auth = options_.api_keys.Check(*context); !auth.ok()) return ToGrpcStatus(auth);
  const std::string id = absl::StrCat("req-", next_id_.fetch_add(1));
  const Deadline deadline = RequestDeadline(*context);
  const absl::StatusOr<GenerationParams> params = ValidateConfig(request->config());
  if (!params.ok()) return ToGrpcStatus(params.status());
  absl::Status status = WaitForSlot(context, deadline);
  if (!status.ok()) {
    spdlog::warn("{} refused: {}", id, status.ToString());
    return ToGrpcStatus(status);
  }
  Admission::Slot slot(&admission_);
  absl::StatusOr<std::vector<MediaPart>> parts = CollectMedia(request->messages());
  absl::StatusOr<BuiltPrompt> prompt =
      parts.ok() ? Prepare(request->messages(), *parts, request->prompt(), *context, deadline) : parts.status();
  if (!prompt.ok()) {
    spdlog::info("{} rejected: {}", id, prompt.status().ToString());
    return ToGrpcStatus(prompt.status());
  }
  status = CheckPromptLength(static_cast<int64_t>(prompt->ids.size()), options_.context_limit);
  if (!status.ok()) {
    spdlog::info("{} rejected: {}", id, status.ToString());
    return ToGrpcStatus(status);
  }
  status = Stream(context, deadline, *request, *params, *prompt, writer, id);
  return ToGrpcStatus(status);
}

ipb::TextGenerateRequest GemmaService::TextRequest(const pb::GenerationConfig& cfg, const GenerationParams& params,
                                                  const BuiltPrompt& prompt, const std::string& id) const {
  const int64_t n = prompt.ids.size();
  ipb::TextGenerateRequest req;
  req.set_request_id(id);
  req.mutable_prompt_ids()->Add(prompt.ids.begin(), prompt.ids.end());
  for (const ipb::SoftTokenSpan& s : prompt.soft) *req.add_soft_tokens() = s;
  GenerationParams sent = params;
  sent.max_new_tokens = static_cast<int>(std::min<int64_t>(params.max_new_tokens, options_.context_limit - n));
  ParamsToInternal(sent, &req);
  if (!cfg.ignore_eos()) req.mutable_stop_ids()->Add(config_.eos_token_ids.begin(), config_.eos_token_ids.end());
  req.set_profile(cfg.profile());
  return req;
}

absl::Status GemmaService::Stream(grpc::ServerContext* context, Deadline deadline, const pb::GenerateRequest& request,
                                  const GenerationParams& params, const BuiltPrompt& prompt,
                                  grpc::ServerWriterInterface<pb::GenerateResponse>* writer, const std::string& id) {
  const ReplyStream::Clock::time_point start = ReplyStream::Clock::now();
  const ipb::TextGenerateRequest req = TextRequest(request.config(), params, prompt, id);
  const std::vector<std::string> stops(request.config().stop().begin(), request.config().stop().end());
  std::vector<const WorkerInstance*> failed;
  absl::Status worker_error;  // why the last instance tried failed
  for (;;) {
    absl::StatusOr<const WorkerInstance*> picked = text_.Pick(failed);
    if (!picked.ok()) return worker_error.ok() ? picked.status() : worker_error;
    ReplyStream reply(tokenizer_, stops, start, request.config().include_special_tokens());
    const Attempt attempt = StreamFrom(**picked, context, deadline, req, reply, writer, id);
    if (!attempt.worker_unavailable) return attempt.status;
    failed.push_back(*picked);
    worker_error = attempt.status;
  }
}

GemmaService::Attempt GemmaService::StreamFrom(const WorkerInstance& worker, grpc::ServerContext* context,
                                               Deadline deadline,
                                               const ipb::TextGenerateRequest& req, ReplyStream& reply,
                                               grpc::ServerWriterInterface<pb::GenerateResponse>* writer,
                                               const std::string& id) const {
  std::unique_ptr<grpc::ClientContext> call = grpc::ClientContext::FromServerContext(*context);
  call->set_deadline(deadline);  // the earlier of this and the client's counts
  const WorkerCall tracked(worker, call.get());
  auto stub = ipb::TextWorker::NewStub(worker.channel);
  std::unique_ptr<grpc::ClientReader<ipb::TextGenerateResponse>> reader = stub->Generate(call.get(), req);
  bool any = false, client_gone = false;
  ipb::TextGenerateResponse in;
  pb::GenerateResponse out;  // the last one read becomes the final message
  while (reader->Read(&in)) {
    any = true;
    absl::StatusOr<pb::GenerateResponse> next = reply.Add(in);
    if (!next.ok()) return {next.status()};
    out = *std::move(next);
    if (reply.finish() == FinishReason::kStopString) call->TryCancel();  // the worker frees the sequence now
    if (reply.finish() != FinishReason::kNone) break;
    if ((out.token_ids_size() > 0 || !out.text().empty()) && !writer->Write(out)) {
      call->TryCancel();
      client_gone = true;
      break;
    }
  }
  if (reply.finish() == FinishReason::kNone) {
    const grpc::Status st = reader->Finish();
    if (client_gone || context->IsCancelled()) return {absl::CancelledError("the client cancelled the request")};
    if (tracked.cut_off()) {
      spdlog::warn("{}: text worker {} stopped answering after {} tokens", id, worker.address, reply.generated());
      // Before any token, another instance may still serve the request.
      return {absl::UnavailableError(absl::StrCat("text worker ", worker.address,
                                                  " stopped answering (hung); retry the request")),
              !any};
    }
    if (!any && st.error_code() == grpc::StatusCode::UNAVAILABLE) {
      spdlog::warn("{}: text worker {} unavailable ({}); trying another", id, worker.address, st.error_message());
      return {absl::UnavailableError(absl::StrCat("text worker ", worker.address, ": ", st.error_message())), true};
    }
    if (any && st.error_code() == grpc::StatusCode::UNAVAILABLE) {
      // The worker went away mid-stream (crashed or was restarted): the
      // tokens already sent cannot be taken back, so the client must retry.
      spdlog::warn("{}: text worker {} went away after {} tokens: {}", id, worker.address, reply.generated(),
                   st.error_message());
      return {absl::UnavailableError(absl::StrCat("text worker ", worker.address, " went away after ",
                                                  reply.generated(), " tokens (", st.error_message(),
                                                  "); retry the request"))};
    }
    if (!st.ok()) {
      spdlog::warn("{} failed after {} tokens: {}", id, reply.generated(), st.error_message());
      return {FromGrpcStatus(st)};
    }
    return {absl::InternalError("the text worker ended the stream without a finish reason")};
  }
  const int n = req.prompt_ids_size();
  absl::StatusOr<pb::GenerateResponse> last = reply.Close(std::move(out), n);
  if (!last.ok()) return {last.status()};
  writer->Write(*last);
  reader->Finish();  // the worker's stream is over (or cancelled at a stop string)
  const pb::Usage& u = last->usage();
  spdlog::info("{} done on {}: prompt {} tokens ({} cached), generated {}, ttft {:.3f} s, {:.1f} tokens/s, finish {}",
               id, worker.address, n, u.cached_prompt_tokens(), reply.generated(), u.time_to_first_token_seconds(),
               u.decode_tokens_per_second(), pb::FinishReason_Name(last->finish_reason()));
  return {absl::OkStatus()};
}

grpc::Status GemmaService::CountTokensCall(grpc::ServerContext* context, const pb::CountTokensRequest* request,
                                           pb::CountTokensResponse* response) {
  if (absl::Status auth = options_.api_keys.Check(*context); !auth.ok()) return ToGrpcStatus(auth);
  // Images and audio go to the encoders, the same work as in Generate, so
  // they take a slot as Generate does. Text alone is only tokenized (bounded
  // by --max-request-mb, no worker involved): it does not wait, so a client
  // can still size its prompts while generation fills the server.
  const absl::StatusOr<std::vector<MediaPart>> media = CollectMedia(request->messages());
  if (!media.ok()) return ToGrpcStatus(media.status());
  const Deadline deadline = RequestDeadline(*context);
  std::optional<Admission::Slot> slot;
  if (!media->empty()) {
    const absl::Status admitted = WaitForSlot(context, deadline);
    if (!admitted.ok()) return ToGrpcStatus(admitted);
    slot.emplace(&admission_);
  }
  absl::StatusOr<BuiltPrompt> prompt = Prepare(request->messages(), *media, request->prompt(), *context, deadline);
  if (!prompt.ok()) return ToGrpcStatus(prompt.status());
  response->set_token_count(static_cast<int>(prompt->ids.size()));
  response->set_context_limit(static_cast<int>(options_.context_limit));
  if (request->return_token_ids()) response->mutable_token_ids()->Add(prompt->ids.begin(), prompt->ids.end());
  return grpc::Status::OK;
}

grpc::Status GemmaService::GetModelInfoCall(grpc::ServerContext* context, const pb::GetModelInfoRequest*,
                                            pb::ModelInfo* info) {
  if (absl::Status auth = options_.api_keys.Check(*context); !auth.ok()) return ToGrpcStatus(auth);
  const TextConfig& t = config_.text;
  info->set_model_type(config_.model_type);
  info->set_vocab_size(t.vocab_size);
  info->set_hidden_size(t.hidden_size);
  info->set_num_layers(t.num_hidden_layers);
  info->set_context_limit(static_cast<int>(options_.context_limit));
  info->set_sliding_window(t.sliding_window);
  info->set_num_kv_shared_layers(t.num_kv_shared_layers);
  info->set_has_vision(config_.has_vision);
  info->set_has_audio(config_.has_audio);
  info->set_image_tokens(config_.vision_soft_tokens_per_image);
  info->set_audio_tokens_per_clip(config_.audio_soft_tokens_per_image);
  info->add_loaded_components("tokenizer");
  info->set_running_requests(admission_.active());
  info->set_queued_requests(admission_.queued());
  bool profiles_done = false;
  for (const WorkerInstance& w : text_.instances()) {
    pb::WorkerStatus* ws = info->add_workers();
    ws->set_kind("text");
    ws->set_address(w.address);
    ipb::TextWorkerInfo ti;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(500));
    const grpc::Status st = ipb::TextWorker::NewStub(w.channel)->GetInfo(&ctx, ipb::TextWorkerInfoRequest(), &ti);
    ws->set_healthy(st.ok() && ti.ple_attached());
    ws->set_detail(st.ok() ? absl::StrCat(ti.active_sequences(), " of ", ti.max_sequences(),
                                          " sequences active; PLE ", ti.ple_attached() ? "attached" : "NOT attached")
                           : st.error_message());
    if (st.ok() && !profiles_done) {
      for (const std::string& p : ti.profiles()) info->add_profiles(p);
      profiles_done = true;
    }
  }
  if (profiles_done) {
    info->add_loaded_components("text");
    info->add_loaded_components("per_layer_embeddings");
  }
  for (const WorkerPool* pool : {&vision_, &audio_}) {
    bool any_up = false;
    for (const WorkerInstance& w : pool->instances()) {
      pb::WorkerStatus* ws = info->add_workers();
      ws->set_kind(pool->kind());
      ws->set_address(w.address);
      const bool up = WorkerPool::IsUp(w, std::chrono::milliseconds(200));
      any_up |= up;
      ws->set_healthy(up);
      ws->set_detail(up ? "connected" : "not reachable");
    }
    if (any_up) info->add_loaded_components(pool->kind());
  }
  if (!options_.ple_address.empty()) {
    pb::WorkerStatus* ws = info->add_workers();
    ws->set_kind("ple");
    ws->set_address(options_.ple_address);
    ws->set_healthy(profiles_done);
    ws->set_detail("seen through the text workers' attachment");
  }
  return grpc::Status::OK;
}

}  // namespace gemma3n
