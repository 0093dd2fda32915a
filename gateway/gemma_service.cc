#include "gateway/gemma_service.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/request/generation_proto.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/streaming_decoder.h"
#include "gateway/stop_strings.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

pb::FinishReason ToPublic(ipb::TextFinish f) {
  switch (f) {
    case ipb::TEXT_FINISH_STOP_TOKEN: return pb::FINISH_REASON_STOP;
    case ipb::TEXT_FINISH_MAX_TOKENS: return pb::FINISH_REASON_MAX_TOKENS;
    case ipb::TEXT_FINISH_CONTEXT_FULL: return pb::FINISH_REASON_CONTEXT_FULL;
    default: return pb::FINISH_REASON_UNSPECIFIED;
  }
}

}  // namespace

GemmaService::GemmaService(const ModelConfig& config, const Tokenizer& tokenizer, const WorkerPool& text,
                           const WorkerPool& vision, const WorkerPool& audio, Admission& admission,
                           GatewayOptions options)
    : config_(config),
      tokenizer_(tokenizer),
      text_(text),
      vision_(vision),
      audio_(audio),
      admission_(admission),
      options_(std::move(options)) {}

absl::StatusOr<BuiltPrompt> GemmaService::Prepare(const google::protobuf::RepeatedPtrField<pb::Message>& messages,
                                                  const std::string& prompt,
                                                  const grpc::ServerContext& context) const {
  ASSIGN_OR_RETURN(std::vector<MediaPart> parts, CollectMedia(messages));
  for (const MediaPart& p : parts) {
    const bool image = p.kind == EncodedMedia::Kind::kImage;
    if (image ? !config_.has_vision : !config_.has_audio) {
      return absl::InvalidArgumentError(absl::StrCat("this model has no ", image ? "vision" : "audio", " tower"));
    }
  }
  EncoderPools pools{&vision_, &audio_, options_.image_size};
  ASSIGN_OR_RETURN(std::vector<EncodedMedia> media, EncodeMedia(parts, pools, context));
  return BuildPrompt(messages, prompt, media, tokenizer_, config_);
}

grpc::Status GemmaService::Generate(grpc::ServerContext* context, const pb::GenerateRequest* request,
                                    grpc::ServerWriter<pb::GenerateResponse>* writer) {
  const std::string id = absl::StrCat("req-", next_id_.fetch_add(1));
  const absl::StatusOr<GenerationParams> params =
      ValidateGeneration(SettingsFromPublic(request->config()), options_.default_max_new_tokens);
  if (!params.ok()) return ToGrpcStatus(params.status());
  absl::Status status = admission_.Acquire([context] { return context->IsCancelled(); });
  if (!status.ok()) {
    spdlog::warn("{} refused: {}", id, status.ToString());
    return ToGrpcStatus(status);
  }
  Admission::Slot slot(&admission_);
  absl::StatusOr<BuiltPrompt> prompt = Prepare(request->messages(), request->prompt(), *context);
  if (!prompt.ok()) {
    spdlog::info("{} rejected: {}", id, prompt.status().ToString());
    return ToGrpcStatus(prompt.status());
  }
  status = CheckPromptLength(static_cast<int64_t>(prompt->ids.size()), options_.context_limit);
  if (!status.ok()) {
    spdlog::info("{} rejected: {}", id, status.ToString());
    return ToGrpcStatus(status);
  }
  status = Stream(context, *request, *params, *prompt, writer, id);
  return ToGrpcStatus(status);
}

absl::Status GemmaService::Stream(grpc::ServerContext* context, const pb::GenerateRequest& request,
                                  const GenerationParams& params, const BuiltPrompt& prompt, grpc::ServerWriter<pb::GenerateResponse>* writer,
                                  const std::string& id) {
  const auto start = Clock::now();
  const pb::GenerationConfig& cfg = request.config();
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

  std::vector<const WorkerInstance*> failed;
  absl::Status worker_error;  // why the last instance tried failed
  for (;;) {
    absl::StatusOr<const WorkerInstance*> picked = text_.Pick(failed);
    if (!picked.ok()) return worker_error.ok() ? picked.status() : worker_error;
    const WorkerInstance* worker = *picked;
    std::unique_ptr<grpc::ClientContext> call = grpc::ClientContext::FromServerContext(*context);
    auto stub = ipb::TextWorker::NewStub(worker->channel);
    std::unique_ptr<grpc::ClientReader<ipb::TextGenerateResponse>> reader = stub->Generate(call.get(), req);

    StreamingDecoder decoder(tokenizer_);
    StopStringFilter stops({cfg.stop().begin(), cfg.stop().end()});
    pb::FinishReason finish = pb::FINISH_REASON_UNSPECIFIED;
    int generated = 0;
    bool any = false, client_gone = false;
    Clock::time_point first_token = start, last_token = start;
    ipb::TextGenerateResponse in;
    pb::GenerateResponse out;  // the last one read becomes the final message
    while (reader->Read(&in)) {
      any = true;
      out.Clear();
      std::string text;
      for (int tok : in.token_ids()) {
        ASSIGN_OR_RETURN(std::string piece, decoder.Push(tok));
        text += piece;
        out.add_token_ids(tok);
      }
      if (in.token_ids_size() > 0) {
        if (generated == 0) first_token = Clock::now();
        last_token = Clock::now();
        generated += in.token_ids_size();
      }
      out.set_text(stops.Push(text));
      if (stops.stopped()) {
        finish = pb::FINISH_REASON_STOP_STRING;
        call->TryCancel();  // the worker frees the sequence now
      } else if (in.finish() != ipb::TEXT_FINISH_NONE) {
        finish = ToPublic(in.finish());
      }
      if (finish != pb::FINISH_REASON_UNSPECIFIED) break;
      if ((out.token_ids_size() > 0 || !out.text().empty()) && !writer->Write(out)) {
        call->TryCancel();
        client_gone = true;
        break;
      }
    }
    if (finish == pb::FINISH_REASON_UNSPECIFIED) {
      const grpc::Status st = reader->Finish();
      if (client_gone || context->IsCancelled()) return absl::CancelledError("the client cancelled the request");
      if (!any && st.error_code() == grpc::StatusCode::UNAVAILABLE) {
        spdlog::warn("{}: text worker {} unavailable ({}); trying another", id, worker->address, st.error_message());
        failed.push_back(worker);
        worker_error = absl::UnavailableError(absl::StrCat("text worker ", worker->address, ": ", st.error_message()));
        continue;
      }
      if (!st.ok()) {
        spdlog::warn("{} failed after {} tokens: {}", id, generated, st.error_message());
        return FromGrpcStatus(st);
      }
      return absl::InternalError("the text worker ended the stream without a finish reason");
    }
    // The last message: its own tokens and text, the held-back text, the
    // finish reason and usage.
    pb::GenerateResponse& last = out;
    if (finish != pb::FINISH_REASON_STOP_STRING) {
      ASSIGN_OR_RETURN(std::string tail, decoder.Flush());
      last.mutable_text()->append(stops.Push(tail));
      last.mutable_text()->append(stops.Flush());
    }
    last.set_finish_reason(finish);
    pb::Usage* u = last.mutable_usage();
    u->set_prompt_tokens(static_cast<int>(n));
    u->set_generated_tokens(generated);
    u->set_time_to_first_token_seconds(generated > 0 ? Seconds(start, first_token) : 0.0);
    const double decode = Seconds(first_token, last_token);
    u->set_decode_tokens_per_second(generated > 1 && decode > 0 ? (generated - 1) / decode : 0.0);
    writer->Write(last);
    reader->Finish();  // the worker's stream is over (or cancelled at a stop string)
    spdlog::info("{} done on {}: prompt {} tokens, generated {}, ttft {:.3f} s, {:.1f} tokens/s, finish {}", id,
                 worker->address, n, generated, u->time_to_first_token_seconds(), u->decode_tokens_per_second(),
                 pb::FinishReason_Name(finish));
    return absl::OkStatus();
  }
}

grpc::Status GemmaService::CountTokens(grpc::ServerContext* context, const pb::CountTokensRequest* request,
                                       pb::CountTokensResponse* response) {
  absl::StatusOr<BuiltPrompt> prompt = Prepare(request->messages(), request->prompt(), *context);
  if (!prompt.ok()) return ToGrpcStatus(prompt.status());
  response->set_token_count(static_cast<int>(prompt->ids.size()));
  response->set_context_limit(static_cast<int>(options_.context_limit));
  if (request->return_token_ids()) response->mutable_token_ids()->Add(prompt->ids.begin(), prompt->ids.end());
  return grpc::Status::OK;
}

grpc::Status GemmaService::GetModelInfo(grpc::ServerContext*, const pb::GetModelInfoRequest*, pb::ModelInfo* info) {
  const TextConfig& t = config_.text;
  info->set_model_type(config_.raw.value("model_type", "gemma3n"));
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
