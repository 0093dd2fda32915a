#include "common/metrics/metric_table.h"

namespace gemma3n::metrics {
namespace {

// Latency buckets, in seconds, for each scale of work.
const std::vector<double> kFirstTokenBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
const std::vector<double> kTokenBuckets = {0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12};
const std::vector<double> kRequestBuckets = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800};
const std::vector<double> kStepBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
const std::vector<double> kLookupBuckets = {1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 5e-2};
const std::vector<double> kImageBuckets = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
// Seconds of compute per second of audio: below 1 is faster than real time.
const std::vector<double> kRealTimeFactorBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8};
// Sequences in one forward step (--max-sequences is 8 by default).
const std::vector<double> kBatchBuckets = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64};

constexpr MetricKind kCounter = MetricKind::kCounter;
constexpr MetricKind kGauge = MetricKind::kGauge;
constexpr MetricKind kHistogram = MetricKind::kHistogram;

const std::vector<MetricSpec>& Table() {
  static const std::vector<MetricSpec> table = {
      {Metric::kRequests, "gemma3n_requests_total", kCounter,
       "Public API calls by method (Generate, CountTokens, GetModelInfo, Transcribe; the HTTP API's included), "
       "modality of their media (text, image, audio, image+audio) and gRPC status code.",
       {"method", "modality", "code"}, {}, "gateway"},
      {Metric::kPromptTokens, "gemma3n_prompt_tokens_total", kCounter,
       "Prompt tokens of the generations the text workers completed (soft tokens of media included).", {}, {},
       "gateway"},
      {Metric::kGeneratedTokens, "gemma3n_generated_tokens_total", kCounter,
       "Tokens generated for the gateway's clients.", {}, {}, "gateway"},
      {Metric::kTimeToFirstToken, "gemma3n_time_to_first_token_seconds", kHistogram,
       "From a generation's arrival (waiting and media encoding included) to its first generated token.", {},
       kFirstTokenBuckets, "gateway"},
      {Metric::kInterTokenLatency, "gemma3n_inter_token_latency_seconds", kHistogram,
       "Between two generated tokens of one generation, as the gateway receives them (tokens that come in "
       "one message: 0 s).",
       {}, kTokenBuckets, "gateway"},
      {Metric::kRequestDuration, "gemma3n_request_duration_seconds", kHistogram,
       "Whole public API calls by method, from arrival to the last reply.", {"method"}, kRequestBuckets,
       "gateway"},
      {Metric::kAdmissionQueueDepth, "gemma3n_admission_queue_depth", kGauge,
       "Requests waiting for an admission slot (--max-queued at most).", {}, {}, "gateway"},
      {Metric::kRequestsInFlight, "gemma3n_requests_in_flight", kGauge,
       "Requests holding an admission slot (--max-concurrent at most).", {}, {}, "gateway"},

      {Metric::kTextActiveSequences, "gemma3n_text_active_sequences", kGauge,
       "Sequences the text worker is prefilling or decoding.", {}, {}, "text-worker"},
      {Metric::kTextQueuedSequences, "gemma3n_text_queued_sequences", kGauge,
       "Sequences waiting for a free slot in the text worker.", {}, {}, "text-worker"},
      {Metric::kTextBatchSize, "gemma3n_text_batch_size", kHistogram,
       "Sequences run together in one forward step.", {}, kBatchBuckets, "text-worker"},
      {Metric::kTextStepDuration, "gemma3n_text_step_duration_seconds", kHistogram,
       "One forward step over the batch (prefill chunks and decoded tokens).", {}, kStepBuckets, "text-worker"},
      {Metric::kTextPromptTokens, "gemma3n_text_prompt_tokens_total", kCounter,
       "Prompt tokens the text worker prefilled.", {}, {}, "text-worker"},
      {Metric::kTextGeneratedTokens, "gemma3n_text_generated_tokens_total", kCounter,
       "Tokens the text worker sampled.", {}, {}, "text-worker"},
      {Metric::kKvCacheUsedBytes, "gemma3n_kv_cache_used_bytes", kGauge,
       "KV-cache bytes held by the active sequences (each sized for its prompt and its most new tokens).", {}, {},
       "text-worker"},
      {Metric::kKvCacheSequenceSlots, "gemma3n_kv_cache_sequence_slots", kGauge,
       "Sequences with a KV cache the text worker holds at most (--max-sequences); "
       "gemma3n_text_active_sequences of them are in use.",
       {}, {}, "text-worker"},
      {Metric::kTextPrefixCacheBytes, "gemma3n_text_prefix_cache_bytes", kGauge,
       "KV-cache bytes of finished sequences kept for prompts that start the same way (--prefix-cache-mb).", {}, {},
       "text-worker"},
      {Metric::kTextPrefixCacheReusedTokens, "gemma3n_text_prefix_cache_reused_tokens_total", kCounter,
       "Prompt tokens not prefilled because the prefix cache held their KV rows.", {}, {}, "text-worker"},

      {Metric::kPleLookups, "gemma3n_ple_lookups_total", kCounter,
       "Per-layer embedding lookups answered over shared memory, by status code.", {"code"}, {}, "ple-service"},
      {Metric::kPleLookupRows, "gemma3n_ple_lookup_rows_total", kCounter,
       "Per-layer embedding rows (one per token) looked up.", {}, {}, "ple-service"},
      {Metric::kPleLookupDuration, "gemma3n_ple_lookup_duration_seconds", kHistogram,
       "One lookup in the PLE service, from reading the ids to posting the answer.", {}, kLookupBuckets,
       "ple-service"},
      {Metric::kPleAttachedClients, "gemma3n_ple_attached_clients", kGauge,
       "Text workers attached to the PLE service (one shared-memory segment each).", {}, {}, "ple-service"},

      {Metric::kEncoderRequests, "gemma3n_encoder_requests_total", kCounter,
       "Encode calls of a media worker by kind (vision, audio) and gRPC status code.", {"kind", "code"}, {},
       "vision-worker, audio-worker"},
      {Metric::kImageEncodeDuration, "gemma3n_image_encode_duration_seconds", kHistogram,
       "Encoding one image: decoding, resizing, the vision tower and embedder.", {}, kImageBuckets,
       "vision-worker"},
      {Metric::kAudioEncodeSecondsPerAudioSecond, "gemma3n_audio_encode_seconds_per_audio_second", kHistogram,
       "Encoding time of one recording divided by its length (below 1: faster than real time).", {},
       kRealTimeFactorBuckets, "audio-worker"},
      {Metric::kAudioInputSeconds, "gemma3n_audio_input_seconds_total", kCounter,
       "Seconds of audio encoded.", {}, {}, "audio-worker"},

      {Metric::kProcessRestarts, "gemma3n_process_restarts_total", kCounter,
       "Restarts of a child process by gemma3n serve (after a crash, or killed when it stopped answering).",
       {kProcessLabel}, {}, "serve"},
      {Metric::kProcessUp, "gemma3n_process_up", kGauge,
       "1 when gemma3n serve read the child's metrics in this scrape, 0 when the child did not answer.",
       {kProcessLabel}, {}, "serve"},
  };
  return table;
}

}  // namespace

absl::Span<const MetricSpec> MetricTable() { return Table(); }

const MetricSpec& Spec(Metric id) { return Table()[static_cast<size_t>(id)]; }

}  // namespace gemma3n::metrics
