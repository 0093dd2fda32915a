#include "text_worker/model/soft_tokens.h"

#include "absl/strings/str_cat.h"

namespace gemma3n {

absl::Status PlaceSoftTokens(absl::Span<const int> ids, int placeholder_id, const float* rows, int64_t n_rows,
                             int64_t hidden, SoftTokenRows& soft) {
  int64_t placeholders = 0;
  for (int id : ids) placeholders += id == placeholder_id;
  if (placeholders != n_rows) {
    return absl::InvalidArgumentError(absl::StrCat("the prompt has ", placeholders, " placeholders (id ",
                                                   placeholder_id, ") but the media give ", n_rows, " soft tokens"));
  }
  int64_t next = 0;
  for (size_t pos = 0; pos < ids.size(); ++pos) {
    if (ids[pos] != placeholder_id) continue;
    soft.positions.push_back(static_cast<int64_t>(pos));
    soft.rows.insert(soft.rows.end(), rows + next * hidden, rows + (next + 1) * hidden);
    ++next;
  }
  return absl::OkStatus();
}

SoftTokenRows SliceSoftRows(const SoftTokenRows& soft, int64_t begin, int64_t end, int64_t hidden) {
  SoftTokenRows out;
  for (size_t i = 0; i < soft.positions.size(); ++i) {
    const int64_t pos = soft.positions[i];
    if (pos < begin || pos >= end) continue;
    out.positions.push_back(pos - begin);
    out.rows.insert(out.rows.end(), soft.rows.begin() + i * hidden, soft.rows.begin() + (i + 1) * hidden);
  }
  return out;
}

}  // namespace gemma3n
