// The Gemma 3n text decoder (Gemma3nTextModel + tied LM head): loads the text
// core of a checkpoint and runs chunks of tokens of one sequence through it,
// extending that sequence's KV cache. A full forward is one chunk from
// position 0; decoding is one chunk per token.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/embedder/multimodal_embedder.h"
#include "common/embedder/per_layer_embeddings.h"
#include "common/kernels/thread_pool.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/kv_cache.h"
#include "text_worker/model/layer_spec.h"
#include "text_worker/model/text_weights.h"
#include "text_worker/model/weight_cache.h"

namespace gemma3n {

// Precomputed input rows for soft-token positions (image or audio encoder
// outputs after their embedder): they replace the embedding of the
// placeholder token at that position. Positions are indices into the chunk.
struct SoftTokenRows {
  std::vector<int64_t> positions;
  std::vector<float> rows;  // [positions.size(), hidden]
};

enum class LogitsFor { kNone, kLast, kAll };

struct LayerInputs;  // decoder_layer.h

// Intermediate tensors of one forward, for tests and debugging.
struct ForwardTrace {
  std::vector<float> per_layer_inputs;               // [n, layers, ple_dim]
  std::vector<float> initial_streams;                // [N, n, hidden] fed to layer 0
  std::vector<std::vector<float>> streams_after;     // per layer: [N, n, hidden]
};

struct ForwardOptions {
  LogitsFor logits = LogitsFor::kLast;
  bool want_hidden = false;       // fill ForwardResult::last_hidden
  ForwardTrace* trace = nullptr;  // record intermediates when set
  // Run a MatFormer sub-model of the loaded weights (null: the full model).
  // The cache must come from NewCache with the same plan.
  const ElasticPlan* plan = nullptr;
};

// One sequence's part of a batched forward: its next tokens (a prefill chunk
// or the one token of a decode step) and its own cache.
struct SequenceChunk {
  KvCache* cache = nullptr;
  absl::Span<const int> ids;
  const SoftTokenRows* soft = nullptr;  // positions index into `ids`
  LogitsFor logits = LogitsFor::kLast;
};

struct ForwardResult {
  std::vector<float> logits;       // [rows, vocab] after soft-capping (rows: 0, 1 or n)
  std::vector<float> last_hidden;  // [n, hidden] after the final norm, when asked for
};

class TextModel {
 public:
  struct Options {
    // Where per-layer embedding rows come from; null = the checkpoint itself.
    std::shared_ptr<const PerLayerEmbeddings> per_layer;
    // Copy the text core's weights into memory at load (see CheckpointOptions).
    bool preload_weights = false;
    // The format the matrices are multiplied in (int8 / int4: quantized at
    // the first load, then mapped from the weight cache).
    WeightFormat weights = WeightFormat::kBf16;
    // Where int8 / int4 weights are cached: "" = beside the checkpoint (or the
    // user's cache directory), "none" = convert at every load, else a
    // directory (weight_cache.h).
    std::string weight_cache_dir;
    // The threads the model computes on, shared (not owned); null = a pool
    // of its own with `threads` threads (0 = every core this process has).
    ThreadPool* pool = nullptr;
    int threads = 0;
  };
  static absl::StatusOr<std::unique_ptr<TextModel>> Load(const std::string& model_dir, Options options);
  static absl::StatusOr<std::unique_ptr<TextModel>> Load(const std::string& model_dir) {
    return Load(model_dir, Options{});
  }

  const ModelConfig& config() const { return config_; }
  const TextConfig& text_config() const { return config_.text; }
  const std::vector<LayerSpec>& layer_specs() const { return specs_; }
  const Checkpoint& checkpoint() const { return *ckpt_; }
  ThreadPool& pool() const { return *pool_; }

  // A cache for a sequence of at most max_tokens tokens (capped at the
  // model's max_position_embeddings); defer_rings: see KvCache.
  std::unique_ptr<KvCache> NewCache(int64_t max_tokens, const ElasticPlan* plan = nullptr,
                                    bool defer_rings = false) const;

  // A slicing profile checked against this checkpoint (see elastic_plan.h).
  absl::StatusOr<ElasticPlan> Plan(const SlicingProfile& profile) const {
    return PlanProfile(config_.text, profile);
  }

  // Runs `ids` at positions [cache.length(), cache.length() + n). On success
  // the cache holds them; on error the cache is unchanged. Errors: empty
  // input, ids outside the vocabulary, too long for the cache, bad soft rows.
  absl::StatusOr<ForwardResult> Forward(KvCache& cache, absl::Span<const int> ids, const SoftTokenRows* soft,
                                        const ForwardOptions& options) const;
  // Several sequences in one pass: every weight matrix is read once for all
  // their rows (batched decoding). Each chunk extends its own cache; caches
  // must be distinct and, like the plan, made by NewCache with that plan.
  // All-or-nothing: on error no cache changes. Results are in chunk order.
  absl::StatusOr<std::vector<ForwardResult>> ForwardBatch(absl::Span<const SequenceChunk> chunks,
                                                          const ElasticPlan* plan) const;
  absl::StatusOr<ForwardResult> Forward(KvCache& cache, absl::Span<const int> ids, LogitsFor logits) const {
    ForwardOptions options;
    options.logits = logits;
    return Forward(cache, ids, nullptr, options);
  }

  // inputs_embeds [n, hidden] of the reference (scaled token embeddings, or
  // the multimodal embedders' hard path), exposed for tests and tools.
  absl::Status EmbedTokens(absl::Span<const int> ids, float* out) const;

  // How the int8 / int4 weights were obtained at load (cache used or written).
  const WeightCacheReport& weight_cache() const { return weight_cache_; }

  // Whether the vision/audio embedders (model.embed_vision/embed_audio) were
  // mapped: only after a multimodal token id was embedded.
  bool multimodal_embedders_loaded() const;

 private:
  TextModel() = default;
  absl::Status PerLayerInputs(absl::Span<const int> ids, const float* embeds, float* out) const;
  absl::StatusOr<const MultimodalEmbedder*> HardEmbedderFor(int id) const;
  void InitialStreams(const float* embeds, int64_t n, std::vector<float>& streams) const;
  void FinalHidden(const std::vector<float>& streams, int64_t n, float* out) const;
  absl::Status CheckChunk(const SequenceChunk& chunk, const std::vector<LayerSpec>& specs) const;
  // The decoder layers of `specs` over the batch; keep_rows (set): past the
  // first KV-shared layer only these rows go on (KeepRows). Returns whether
  // they were kept.
  bool RunLayers(const std::vector<LayerSpec>& specs, const std::vector<int64_t>* keep_rows, LayerInputs& in,
                 std::vector<float>& streams, std::vector<float>& per_layer, ForwardTrace* trace) const;
  absl::StatusOr<std::vector<ForwardResult>> Run(absl::Span<const SequenceChunk> chunks,
                                                 const ForwardOptions& options) const;

  std::string dir_;
  std::unique_ptr<ModelThreads> threads_;
  ThreadPool* pool_ = nullptr;  // threads_->pool()
  ModelConfig config_;
  std::vector<LayerSpec> specs_;
  std::unique_ptr<Checkpoint> ckpt_;
  TextWeights weights_;
  WeightCacheReport weight_cache_;
  std::shared_ptr<const PerLayerEmbeddings> per_layer_;
  std::vector<float> inv_freq_local_, inv_freq_global_;  // RoPE [head_dim / 2]

  // The vision/audio embedders' hard paths (for ids such as <end_of_image>)
  // are loaded on first use, so a text-only workload never maps them.
  mutable std::mutex embedders_mu_;
  mutable std::unique_ptr<Checkpoint> embedders_ckpt_;
  mutable std::unique_ptr<MultimodalEmbedder> vision_embedder_, audio_embedder_;
};

}  // namespace gemma3n
