// Placing encoder outputs (image or audio soft tokens) at their placeholder
// positions in a prompt, in order, as Gemma3nModel's masked_scatter does.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {

// Adds rows [n_rows, hidden] to `soft` at the positions of `placeholder_id`
// in `ids`. InvalidArgument (naming both counts) when the prompt has another
// number of placeholders than rows.
absl::Status PlaceSoftTokens(absl::Span<const int> ids, int placeholder_id, const float* rows, int64_t n_rows,
                             int64_t hidden, SoftTokenRows& soft);

// The rows of `soft` whose positions fall in [begin, end), re-based to a
// chunk that starts at `begin` (chunked prefill).
SoftTokenRows SliceSoftRows(const SoftTokenRows& soft, int64_t begin, int64_t end, int64_t hidden);

}  // namespace gemma3n
