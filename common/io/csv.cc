#include "common/io/csv.h"

#include <csv.h>

#include "absl/strings/str_cat.h"

namespace gemma3n {
namespace {

struct Collector {
  CsvRows rows;
  std::vector<std::string> row;
};

void OnField(void* data, size_t len, void* user) {
  static_cast<Collector*>(user)->row.emplace_back(static_cast<const char*>(data), len);
}

void OnRow(int, void* user) {
  auto* c = static_cast<Collector*>(user);
  c->rows.push_back(std::move(c->row));
  c->row.clear();
}

}  // namespace

absl::StatusOr<CsvRows> ParseCsv(const std::string& text, const std::string& source) {
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0) {
    return absl::InternalError("cannot initialise the CSV parser");
  }
  Collector c;
  const size_t parsed = csv_parse(&parser, text.data(), text.size(), OnField, OnRow, &c);
  const bool ok = parsed == text.size() && csv_fini(&parser, OnField, OnRow, &c) == 0;
  const std::string error = ok ? "" : csv_strerror(csv_error(&parser));
  csv_free(&parser);
  if (!ok) return absl::InvalidArgumentError(absl::StrCat(source, ": malformed CSV (", error, ")"));
  return c.rows;
}

}  // namespace gemma3n
