#include "text_worker/matformer/slicing_profile.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/io/csv.h"
#include "common/status/status_macros.h"

namespace gemma3n {

absl::StatusOr<std::vector<int>> ParseIntListExpression(const std::string& text) {
  absl::string_view s = absl::StripAsciiWhitespace(text);
  std::vector<int> out;
  if (s.empty() || s == "nan" || s == "NaN") return out;
  if (!absl::ConsumePrefix(&s, "[") || !absl::ConsumeSuffix(&s, "]")) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a list such as [2_048 * 8, ...]"));
  }
  if (absl::StripAsciiWhitespace(s).empty()) return out;
  for (absl::string_view item : absl::StrSplit(s, ',')) {
    // Each item: a product of integers, which may use _ as digit separator.
    int64_t value = 1;
    for (absl::string_view factor : absl::StrSplit(item, '*')) {
      const std::string digits = absl::StrReplaceAll(absl::StripAsciiWhitespace(factor), {{"_", ""}});
      int64_t f;
      if (digits.empty() || !absl::SimpleAtoi(digits, &f) || f < 0 || f > (1 << 30)) {
        return absl::InvalidArgumentError(absl::StrCat("'", std::string(item), "' in '", text,
                                                       "' is not a product of non-negative integers"));
      }
      value *= f;
      if (value > (1 << 30)) return absl::InvalidArgumentError(absl::StrCat("'", std::string(item), "' is too large"));
    }
    out.push_back(static_cast<int>(value));
  }
  return out;
}

std::string ProfileAlias(const std::string& name) {
  if (name == "Main model") return "E4B";
  if (name == "Config for official E2B Model") return "E2B";
  static const std::regex kSized(R"(Config for (E[0-9.]+B) \((layer|block)-level\))");
  std::smatch m;
  if (std::regex_match(name, m, kSized)) return absl::StrCat(m[1].str(), "-", m[2].str());
  return name;
}

absl::StatusOr<std::vector<SlicingProfile>> ParseSlicingProfiles(const std::string& csv_text,
                                                                 const std::string& source) {
  ASSIGN_OR_RETURN(CsvRows rows, ParseCsv(csv_text, source));
  const std::vector<std::string> header = {"name", "# Layers", "# Effective Params (B)", "MMLU PT accuracy",
                                           "FFN Hidden Dims", "Layers Skipped"};
  if (rows.empty() || rows[0] != header) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": the header must be exactly: ", absl::StrJoin(header, ",")));
  }
  std::vector<SlicingProfile> out;
  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& row = rows[r];
    if (row.size() == 1 && row[0].empty()) continue;  // blank line
    const auto bad = [&](const std::string& what) {
      return absl::InvalidArgumentError(absl::StrCat(source, " row ", r + 1, ": ", what));
    };
    if (row.size() != header.size()) return bad(absl::StrCat("has ", row.size(), " fields, expected 6"));
    SlicingProfile p;
    p.name = row[0];
    if (p.name.empty()) return bad("the name is empty");
    p.alias = ProfileAlias(p.name);
    auto widths = ParseIntListExpression(row[4]);
    if (!widths.ok()) return bad(std::string(widths.status().message()));
    auto skipped = ParseIntListExpression(row[5]);
    if (!skipped.ok()) return bad(std::string(skipped.status().message()));
    p.ffn_widths = *widths;
    p.skipped = *skipped;
    std::sort(p.skipped.begin(), p.skipped.end());
    if (std::adjacent_find(p.skipped.begin(), p.skipped.end()) != p.skipped.end()) return bad("a layer is skipped twice");
    if (p.ffn_widths.empty()) return bad("no FFN widths");
    for (int w : p.ffn_widths) {
      if (w <= 0) return bad("FFN widths must be positive");
    }
    int layers;
    if (!absl::SimpleAtoi(row[1], &layers) || layers != static_cast<int>(p.ffn_widths.size())) {
      return bad(absl::StrCat("'# Layers' is ", row[1], " but ", p.ffn_widths.size(), " FFN widths are given"));
    }
    double params = 0;
    if (!row[2].empty() && absl::SimpleAtod(row[2], &params)) p.effective_params_b = params;
    out.push_back(std::move(p));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(source, ": no profiles"));
  return out;
}

absl::StatusOr<std::vector<SlicingProfile>> LoadSlicingProfiles(const std::string& csv_path) {
  std::ifstream in(csv_path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read profiles file ", csv_path));
  std::stringstream text;
  text << in.rdbuf();
  return ParseSlicingProfiles(text.str(), csv_path);
}

absl::StatusOr<SlicingProfile> FindProfile(const std::vector<SlicingProfile>& profiles, const std::string& key) {
  for (const auto& p : profiles) {
    if (p.name == key || p.alias == key) return p;
  }
  std::vector<std::string> names;
  for (const auto& p : profiles) names.push_back(p.alias);
  // A name the caller chose: bad input, not a missing resource.
  return absl::InvalidArgumentError(
      absl::StrCat("no slicing profile '", key, "'; known: ", absl::StrJoin(names, ", ")));
}

}  // namespace gemma3n
