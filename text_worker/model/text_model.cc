#include "text_worker/model/text_model.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/kernels/simd/dot_kernels.h"
#include "common/request/generation_params.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/model/decoder_layer.h"

namespace gemma3n {
namespace {

std::vector<float> RopeInverseFrequencies(double base, int head_dim) {
  std::vector<float> inv(head_dim / 2);
  for (int i = 0; i < head_dim / 2; ++i) {
    inv[i] = static_cast<float>(1.0 / std::pow(base, (2.0 * i) / head_dim));
  }
  return inv;
}

// rows [n, dim] *= target_rms(row) / max(rms(row), sqrt(1e-5)): the AltUp
// streams are rescaled to the magnitude of the stream they derive from.
void MatchMagnitude(float* rows, const float* reference, int64_t n, int64_t dim) {
  for (int64_t t = 0; t < n; ++t) {
    const float target = RootMeanSquare(reference + t * dim, dim);
    float* r = rows + t * dim;
    double sum = 0.0;
    for (int64_t d = 0; d < dim; ++d) sum += static_cast<double>(r[d]) * r[d];
    const float mag = std::sqrt(std::max(static_cast<float>(sum / dim), 1e-5f));
    for (int64_t d = 0; d < dim; ++d) r[d] = r[d] * target / mag;
  }
}

// Keeps only `rows` (ascending batch indices, each sequence's kept rows at
// its end) of a batch in flight: streams [N, n, hidden] -> [N, kept, hidden],
// per_layer [n, width] -> [kept, width], positions and sequences to match; a
// sequence left with no row drops out.
void KeepRows(const std::vector<int64_t>& rows, const TextConfig& c, LayerInputs& in, std::vector<float>& streams,
              std::vector<float>& per_layer) {
  const int64_t h = c.hidden_size, kept = rows.size(), n = in.n, N = c.altup_num_inputs;
  const int64_t width = static_cast<int64_t>(c.num_hidden_layers) * c.hidden_size_per_layer_input;
  std::vector<float> s(static_cast<size_t>(N * kept * h)), p(static_cast<size_t>(kept * width));
  std::vector<int64_t> positions(kept);
  for (int64_t r = 0; r < kept; ++r) {
    for (int64_t k = 0; k < N; ++k) {
      std::copy_n(streams.data() + (k * n + rows[r]) * h, h, s.data() + (k * kept + r) * h);
    }
    std::copy_n(per_layer.data() + rows[r] * width, width, p.data() + r * width);
    positions[r] = in.positions[rows[r]];
  }
  std::vector<SequenceRows> seqs;
  int64_t next = 0;
  for (SequenceRows q : in.seqs) {
    const int64_t count = std::count_if(rows.begin(), rows.end(),
                                        [&](int64_t r) { return r >= q.row0 && r < q.row0 + q.n; });
    if (count == 0) continue;
    q.p0 += q.n - count;
    q.n = count;
    q.row0 = next;
    next += count;
    seqs.push_back(q);
  }
  streams.swap(s);
  per_layer.swap(p);
  in.positions.swap(positions);
  in.seqs.swap(seqs);
  in.n = kept;
}

// InvalidArgument when chunk i's cache is also an earlier chunk's.
absl::Status CheckCacheNotEarlier(absl::Span<const SequenceChunk> chunks, size_t i) {
  for (size_t j = 0; j < i; ++j) {
    if (chunks[j].cache == chunks[i].cache) return absl::InvalidArgumentError("one KV cache twice in a batch");
  }
  return absl::OkStatus();
}

// The rows of all chunks of a batch, one after the other.
struct BatchRows {
  LayerInputs in;  // n, seqs and positions set
  std::vector<int> ids;  // [n]
  std::vector<std::vector<AttentionContext>> contexts;  // per chunk: one per layer (SequenceRows::contexts)
};

BatchRows StackRows(absl::Span<const SequenceChunk> chunks, int layers) {
  BatchRows batch;
  LayerInputs& in = batch.in;
  batch.contexts.resize(chunks.size());
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SequenceChunk& chunk = chunks[i];
    SequenceRows rows;
    rows.row0 = in.n;
    rows.n = chunk.ids.size();
    rows.p0 = chunk.cache->length();
    rows.cache = chunk.cache;
    batch.contexts[i].resize(layers);
    rows.contexts = &batch.contexts[i];
    for (int64_t t = 0; t < rows.n; ++t) in.positions.push_back(rows.p0 + t);
    batch.ids.insert(batch.ids.end(), chunk.ids.begin(), chunk.ids.end());
    in.seqs.push_back(rows);
    in.n += rows.n;
  }
  return batch;
}

// Soft-token rows replace the embeddings [n, hidden] at their positions.
void SpliceSoftRows(absl::Span<const SequenceChunk> chunks, const std::vector<SequenceRows>& seqs, int64_t h,
                    std::vector<float>& embeds) {
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (const SoftTokenRows* soft = chunks[i].soft) {
      for (size_t r = 0; r < soft->positions.size(); ++r) {
        std::copy_n(soft->rows.data() + r * h, h, embeds.data() + (seqs[i].row0 + soft->positions[r]) * h);
      }
    }
  }
}

// The rows whose logits are wanted (batch indices, ascending), and how many per chunk.
struct LogitRows {
  std::vector<int64_t> rows;
  std::vector<int64_t> count;
};

LogitRows WantedLogitRows(absl::Span<const SequenceChunk> chunks, const std::vector<SequenceRows>& seqs) {
  LogitRows out;
  out.count.assign(chunks.size(), 0);
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SequenceRows& s = seqs[i];
    out.count[i] = chunks[i].logits == LogitsFor::kAll ? s.n : chunks[i].logits == LogitsFor::kLast ? 1 : 0;
    for (int64_t t = s.n - out.count[i]; t < s.n; ++t) out.rows.push_back(s.row0 + t);
  }
  return out;
}

// The tied LM head over the rows that want logits, gathered so the largest
// matrix of the model is read once for the whole batch; each chunk's
// soft-capped logits go to its result. hidden: [rows, hidden], exactly the
// wanted rows when `compacted`, else every row of the batch.
void TiedLmHead(ThreadPool& pool, const WeightMatrix& embed_tokens, const TextConfig& c,
                const std::vector<float>& hidden, const LogitRows& wanted, bool compacted,
                std::vector<ForwardResult>& results) {
  const int64_t h = c.hidden_size, rows = wanted.rows.size(), vocab = c.vocab_size;
  std::vector<float> gathered, logits(static_cast<size_t>(rows * vocab));
  if (compacted) {
    gathered = hidden;  // exactly those rows already
  } else {
    gathered.resize(static_cast<size_t>(rows * h));
    for (int64_t r = 0; r < rows; ++r) std::copy_n(hidden.data() + wanted.rows[r] * h, h, gathered.data() + r * h);
  }
  MatMul(pool, gathered.data(), rows, embed_tokens, logits.data());
  if (c.final_logit_softcapping > 0.0f) SoftCap(logits.data(), logits.size(), c.final_logit_softcapping);
  int64_t next = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    results[i].logits.assign(logits.begin() + next * vocab, logits.begin() + (next + wanted.count[i]) * vocab);
    next += wanted.count[i];
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<TextModel>> TextModel::Load(const std::string& model_dir, Options options) {
  auto m = std::unique_ptr<TextModel>(new TextModel());
  m->dir_ = model_dir;
  m->threads_ = std::make_unique<ModelThreads>(options.pool, options.threads);
  m->pool_ = &m->threads_->pool();
  // Text core only: the per-layer table is opened separately (or served by
  // the PLE service), vision/audio never.
  CheckpointOptions ckpt_options;
  // Weights converted to int8 / int4 live in memory or in the cache file
  // (copied with preload there): preloading their bf16 source would only
  // double the memory.
  ckpt_options.preload = options.preload_weights && options.weights == WeightFormat::kBf16;
  ASSIGN_OR_RETURN(m->ckpt_, Checkpoint::Open(model_dir, {kTextPrefix}, ckpt_options));
  ASSIGN_OR_RETURN(m->config_, ParseModelConfig(m->ckpt_->config()));
  const TextConfig& c = m->config_.text;
  m->specs_ = BuildLayerSpecs(c);
  for (const LayerSpec& s : m->specs_) {
    if (s.index >= c.num_hidden_layers - c.num_kv_shared_layers && !s.kv_shared) {
      return absl::InvalidArgumentError(absl::StrCat(
          "config: layer ", s.index, " shares K/V but no earlier non-shared layer has its attention type"));
    }
  }
  ASSIGN_OR_RETURN(m->weights_, LoadTextWeights(*m->ckpt_, c, m->specs_));
  // The sparse layers' transposes are filled in only if the weight cache
  // does not provide those matrices.
  PendingTransposes transposes = PlanSparseDownTransposes(m->weights_, m->specs_);
  ASSIGN_OR_RETURN(m->weight_cache_, ConvertTextWeightsCached(*m->pool_, *m->ckpt_, m->weights_, transposes, options.weights,
                                                              options.weight_cache_dir, options.preload_weights));
  const int64_t ple_width = static_cast<int64_t>(c.num_hidden_layers) * c.hidden_size_per_layer_input;
  if (options.per_layer) {
    if (options.per_layer->row_width() != ple_width) {
      return absl::InvalidArgumentError(absl::StrCat("per-layer embedding rows have width ",
                                                     options.per_layer->row_width(), ", the model needs ",
                                                     ple_width));
    }
    m->per_layer_ = std::move(options.per_layer);
  } else {
    ASSIGN_OR_RETURN(auto table,
                     CheckpointPerLayerEmbeddings::Open(model_dir, c.vocab_size_per_layer_input, ple_width));
    m->per_layer_ = std::move(table);
  }
  m->inv_freq_local_ = RopeInverseFrequencies(c.rope_local_base_freq, c.head_dim);
  m->inv_freq_global_ = RopeInverseFrequencies(c.rope_theta, c.head_dim);
  spdlog::info("loaded text model from {}: {} layers, hidden {}, vocab {}, {} KV-shared layers; kernels {}{}, {} threads",
               model_dir, c.num_hidden_layers, c.hidden_size, c.vocab_size, c.num_kv_shared_layers,
               IsaName(Kernels().isa), Kernels().vnni_dot_int8 ? " with VNNI" : "", m->pool_->num_threads());
  return m;
}

std::unique_ptr<KvCache> TextModel::NewCache(int64_t max_tokens, const ElasticPlan* plan, bool defer_rings) const {
  max_tokens = std::clamp<int64_t>(max_tokens, 1, config_.text.max_position_embeddings);
  return std::make_unique<KvCache>(config_.text, plan ? plan->specs : specs_, max_tokens, defer_rings);
}

absl::StatusOr<const MultimodalEmbedder*> TextModel::HardEmbedderFor(int id) const {
  const bool vision = config_.has_vision && id >= config_.vision.vocab_offset &&
                      id < config_.vision.vocab_offset + config_.vision.vocab_size;
  const bool audio = config_.has_audio && id >= config_.audio.vocab_offset &&
                     id < config_.audio.vocab_offset + config_.audio.vocab_size;
  if (!vision && !audio) {
    return absl::InvalidArgumentError(
        absl::StrCat("token id ", id, " is beyond the text vocabulary and in no multimodal range"));
  }
  std::lock_guard<std::mutex> lock(embedders_mu_);
  if (!embedders_ckpt_) {
    ASSIGN_OR_RETURN(embedders_ckpt_, Checkpoint::Open(dir_, {"model.embed_vision.", "model.embed_audio."}));
  }
  auto& slot = vision ? vision_embedder_ : audio_embedder_;
  if (!slot) {
    ASSIGN_OR_RETURN(slot, MultimodalEmbedder::Load(*embedders_ckpt_,
                                                    vision ? "model.embed_vision." : "model.embed_audio.",
                                                    vision ? config_.vision : config_.audio,
                                                    config_.text.hidden_size, *pool_));
  }
  return slot.get();
}

bool TextModel::multimodal_embedders_loaded() const {
  std::lock_guard<std::mutex> lock(embedders_mu_);
  return embedders_ckpt_ != nullptr;
}

absl::Status TextModel::EmbedTokens(absl::Span<const int> ids, float* out) const {
  const TextConfig& c = config_.text;
  const int64_t h = c.hidden_size;
  const float scale = std::sqrt(static_cast<float>(h));
  const int text_end = config_.has_vision ? config_.vision.vocab_offset
                                          : (config_.has_audio ? config_.audio.vocab_offset : c.vocab_size);
  RETURN_IF_ERROR(CheckTokenIds(ids, c.vocab_size));
  for (size_t i = 0; i < ids.size(); ++i) {
    const int id = ids[i];
    if (id < text_end) {
      weights_.embed_tokens.RowToF32(id, out + i * h);
      for (int64_t d = 0; d < h; ++d) out[i * h + d] *= scale;
    } else {
      ASSIGN_OR_RETURN(const MultimodalEmbedder* e, HardEmbedderFor(id));
      RETURN_IF_ERROR(e->EmbedHard({id}, out + i * h));
    }
  }
  return absl::OkStatus();
}

absl::Status TextModel::PerLayerInputs(absl::Span<const int> ids, const float* embeds, float* out) const {
  const TextConfig& c = config_.text;
  const int64_t n = ids.size(), h = c.hidden_size, ple = c.hidden_size_per_layer_input,
                width = static_cast<int64_t>(c.num_hidden_layers) * ple;
  // Token-indexed part: ids outside the per-layer vocabulary (multimodal) use row 0.
  std::vector<int> rows(ids.begin(), ids.end());
  for (int& id : rows) {
    if (id < 0 || id >= c.vocab_size_per_layer_input) id = 0;
  }
  std::vector<float> table(static_cast<size_t>(n * width));
  RETURN_IF_ERROR(per_layer_->Lookup(rows, table.data()));
  // Projection part: per_layer_model_projection(embeds) / sqrt(hidden), normed per layer.
  MatMul(*pool_, embeds, n, weights_.per_layer_model_projection, out);
  const float proj_scale = 1.0f / std::sqrt(static_cast<float>(h));
  for (int64_t i = 0; i < n * width; ++i) out[i] *= proj_scale;
  RmsNorm(out, n * c.num_hidden_layers, ple, weights_.per_layer_projection_norm.data(), c.rms_norm_eps, out);
  const float table_scale = std::sqrt(static_cast<float>(ple));
  const float mix = 1.0f / std::sqrt(2.0f);
  for (int64_t i = 0; i < n * width; ++i) out[i] = (out[i] + table[i] * table_scale) * mix;
  return absl::OkStatus();
}

void TextModel::InitialStreams(const float* embeds, int64_t n, std::vector<float>& streams) const {
  const TextConfig& c = config_.text;
  const int64_t h = c.hidden_size, plane = n * h;
  streams.assign(static_cast<size_t>(c.altup_num_inputs * plane), 0.0f);
  std::copy(embeds, embeds + plane, streams.begin());
  for (int s = 1; s < c.altup_num_inputs; ++s) {
    float* dst = streams.data() + s * plane;
    MatMul(*pool_, embeds, n, weights_.altup_projections[s - 1], dst);
    MatchMagnitude(dst, embeds, n, h);
  }
}

void TextModel::FinalHidden(const std::vector<float>& streams, int64_t n, float* out) const {
  const TextConfig& c = config_.text;
  const int64_t h = c.hidden_size, plane = n * h;
  std::copy(streams.begin(), streams.begin() + plane, out);
  std::vector<float> tmp(plane);
  for (int s = 1; s < c.altup_num_inputs; ++s) {
    MatMul(*pool_, streams.data() + s * plane, n, weights_.altup_unembed_projections[s - 1], tmp.data());
    MatchMagnitude(tmp.data(), streams.data(), n, h);
    for (int64_t i = 0; i < plane; ++i) out[i] += tmp[i];
  }
  const float inv = 1.0f / static_cast<float>(c.altup_num_inputs);
  for (int64_t i = 0; i < plane; ++i) out[i] *= inv;
  RmsNorm(out, n, h, weights_.final_norm.data(), c.rms_norm_eps, out);
}

absl::Status TextModel::CheckChunk(const SequenceChunk& chunk, const std::vector<LayerSpec>& specs) const {
  if (!chunk.cache) return absl::InvalidArgumentError("no KV cache for the sequence");
  if (chunk.ids.empty()) return absl::InvalidArgumentError("no tokens to run");
  const KvCache& cache = *chunk.cache;
  for (const LayerSpec& spec : specs) {
    if (!spec.kv_shared && !cache.HasStore(spec.index)) {
      return absl::FailedPreconditionError("the KV cache was made for another MatFormer profile");
    }
  }
  const int64_t n = chunk.ids.size();
  if (cache.length() + n > cache.max_tokens()) {
    return absl::OutOfRangeError(absl::StrCat("sequence of ", cache.length() + n,
                                              " tokens exceeds the cache's limit of ", cache.max_tokens(), " tokens"));
  }
  if (const SoftTokenRows* soft = chunk.soft) {
    const int64_t h = config_.text.hidden_size;
    if (soft->rows.size() != soft->positions.size() * h) {
      return absl::InvalidArgumentError(absl::StrCat("soft-token rows must be [", soft->positions.size(), ", ",
                                                     h, "], got ", soft->rows.size(), " values"));
    }
    for (const int64_t pos : soft->positions) {
      if (pos < 0 || pos >= n) {
        return absl::InvalidArgumentError(absl::StrCat("soft-token position ", pos, " outside the chunk of ", n));
      }
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ForwardResult> TextModel::Forward(KvCache& cache, absl::Span<const int> ids,
                                                 const SoftTokenRows* soft,
                                                 const ForwardOptions& options) const {
  SequenceChunk chunk;
  chunk.cache = &cache;
  chunk.ids = ids;
  chunk.soft = soft;
  chunk.logits = options.logits;
  ASSIGN_OR_RETURN(std::vector<ForwardResult> results, Run({chunk}, options));
  return std::move(results[0]);
}

absl::StatusOr<std::vector<ForwardResult>> TextModel::ForwardBatch(absl::Span<const SequenceChunk> chunks,
                                                                   const ElasticPlan* plan) const {
  ForwardOptions options;
  options.plan = plan;
  return Run(chunks, options);
}

bool TextModel::RunLayers(const std::vector<LayerSpec>& specs, const std::vector<int64_t>* keep_rows,
                          LayerInputs& in, std::vector<float>& streams, std::vector<float>& per_layer,
                          ForwardTrace* trace) const {
  const TextConfig& c = config_.text;
  bool compacted = false;
  for (const LayerSpec& spec : specs) {
    if (keep_rows && spec.kv_shared && !compacted) {
      KeepRows(*keep_rows, c, in, streams, per_layer);
      compacted = true;
      if (in.n == 0) break;
    }
    in.per_layer_input = per_layer.data() + static_cast<int64_t>(spec.index) * c.hidden_size_per_layer_input;
    in.inv_freq = spec.attention == AttentionType::kFull ? &inv_freq_global_ : &inv_freq_local_;
    DecoderLayerForward(spec, weights_.layers[spec.index], c, in, streams);
    if (trace) trace->streams_after.push_back(streams);
  }
  return compacted;
}

absl::StatusOr<std::vector<ForwardResult>> TextModel::Run(absl::Span<const SequenceChunk> chunks,
                                                          const ForwardOptions& options) const {
  const TextConfig& c = config_.text;
  const int64_t h = c.hidden_size;
  if (chunks.empty()) return absl::InvalidArgumentError("no sequences to run");
  const std::vector<LayerSpec>& specs = options.plan ? options.plan->specs : specs_;
  for (size_t i = 0; i < chunks.size(); ++i) {
    RETURN_IF_ERROR(CheckChunk(chunks[i], specs));
    RETURN_IF_ERROR(CheckCacheNotEarlier(chunks, i));
  }
  BatchRows batch = StackRows(chunks, c.num_hidden_layers);
  LayerInputs& in = batch.in;
  in.pool = pool_;
  const int64_t n = in.n;

  std::vector<float> embeds(static_cast<size_t>(n * h));  // [n, hidden]
  RETURN_IF_ERROR(EmbedTokens(batch.ids, embeds.data()));
  SpliceSoftRows(chunks, in.seqs, h, embeds);
  const int64_t ple_width = static_cast<int64_t>(c.num_hidden_layers) * c.hidden_size_per_layer_input;
  std::vector<float> per_layer(static_cast<size_t>(n * ple_width));  // [n, layers * ple_dim]
  RETURN_IF_ERROR(PerLayerInputs(batch.ids, embeds.data(), per_layer.data()));

  // From here nothing can fail: the caches are only written below.
  std::vector<float> streams;  // [N, n, hidden]
  InitialStreams(embeds.data(), n, streams);
  ForwardTrace* trace = options.trace;
  if (trace) {
    trace->per_layer_inputs = per_layer;
    trace->initial_streams = streams;
    trace->streams_after.clear();
  }
  const LogitRows wanted = WantedLogitRows(chunks, in.seqs);
  const std::vector<SequenceRows> all_rows = in.seqs;
  // KV-shared layers write no cache, so past the first of them only the rows
  // whose logits are wanted matter (the last prompt token of a prefill):
  // the other rows stop there. Not when every row's hidden state is asked for.
  const bool shortcut = !trace && !options.want_hidden && static_cast<int64_t>(wanted.rows.size()) < n;
  in.per_layer_stride = ple_width;
  const bool compacted = RunLayers(specs, shortcut ? &wanted.rows : nullptr, in, streams, per_layer, trace);
  for (const SequenceRows& s : all_rows) s.cache->set_length(s.p0 + s.n);

  std::vector<ForwardResult> results(chunks.size());
  if (wanted.rows.empty() && !options.want_hidden) return results;
  std::vector<float> hidden(static_cast<size_t>(in.n * h));  // [rows left, hidden]
  FinalHidden(streams, in.n, hidden.data());
  if (!wanted.rows.empty()) TiedLmHead(*pool_, weights_.embed_tokens, c, hidden, wanted, compacted, results);
  if (options.want_hidden && chunks.size() == 1) results[0].last_hidden = std::move(hidden);
  return results;
}

}  // namespace gemma3n
