// Early-return helpers for absl::Status / absl::StatusOr, so that errors stay
// values all the way to the process edge (DEVELOPERS.md: errors are values).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define GEMMA3N_CONCAT_INNER(a, b) a##b
#define GEMMA3N_CONCAT(a, b) GEMMA3N_CONCAT_INNER(a, b)

// RETURN_IF_ERROR(expr): returns the status of `expr` when it is not OK.
#define RETURN_IF_ERROR(expr)                        \
  do {                                               \
    ::absl::Status gemma3n_status_ = (expr);         \
    if (!gemma3n_status_.ok()) return gemma3n_status_; \
  } while (0)

// ASSIGN_OR_RETURN(lhs, expr): `lhs = *expr`, or returns its error status.
#define ASSIGN_OR_RETURN(lhs, expr) \
  GEMMA3N_ASSIGN_OR_RETURN_IMPL(GEMMA3N_CONCAT(gemma3n_statusor_, __LINE__), lhs, expr)
#define GEMMA3N_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
