// Every metric a gemma3n process exports, as data: name, kind, help text,
// label names and histogram buckets, written once here. The services name a
// metric by its `Metric` id (common/metrics/registry.h); the README's list
// and the tests read this table too. Names follow Prometheus conventions:
// the `gemma3n_` prefix, base units in the name (`_seconds`, `_bytes`),
// counters ending in `_total`.
#pragma once

#include <string>
#include <vector>

#include "absl/types/span.h"

namespace gemma3n::metrics {

enum class Metric {
  // gemma3n-gateway
  kRequests,
  kPromptTokens,
  kGeneratedTokens,
  kTimeToFirstToken,
  kInterTokenLatency,
  kRequestDuration,
  kAdmissionQueueDepth,
  kRequestsInFlight,
  // gemma3n-text-worker
  kTextActiveSequences,
  kTextQueuedSequences,
  kTextBatchSize,
  kTextStepDuration,
  kTextPromptTokens,
  kTextGeneratedTokens,
  kKvCacheUsedBytes,
  kKvCacheSequenceSlots,
  kTextPrefixCacheBytes,
  kTextPrefixCacheReusedTokens,
  // gemma3n-ple-service
  kPleLookups,
  kPleLookupRows,
  kPleLookupDuration,
  kPleAttachedClients,
  // gemma3n-vision-worker and gemma3n-audio-worker
  kEncoderRequests,
  kImageEncodeDuration,
  kAudioEncodeSecondsPerAudioSecond,
  kAudioInputSeconds,
  // gemma3n serve
  kProcessRestarts,
  kProcessUp,
};

enum class MetricKind { kCounter, kGauge, kHistogram };

struct MetricSpec {
  Metric id;
  const char* name;
  MetricKind kind;
  const char* help;
  std::vector<std::string> labels;  // names, in the order callers give values
  std::vector<double> buckets;      // histograms only: upper bounds, increasing
  const char* process;              // which binary exports it (for the README)
};

// In `Metric` order: MetricTable()[static_cast<int>(id)].id == id.
absl::Span<const MetricSpec> MetricTable();
const MetricSpec& Spec(Metric id);

// The label serve adds to every sample of a child's metrics; the children
// themselves never use it.
inline constexpr char kProcessLabel[] = "process";

}  // namespace gemma3n::metrics
