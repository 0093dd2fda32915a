#include "common/io/npy.h"

#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace gemma3n {

absl::Status WriteNpyF32(const std::string& path, absl::Span<const float> data, const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  if (n != static_cast<int64_t>(data.size())) {
    return absl::InvalidArgumentError(absl::StrCat("npy ", path, ": shape holds ", n, " values, data ", data.size()));
  }
  std::string dims;
  for (size_t i = 0; i < shape.size(); ++i) absl::StrAppend(&dims, i ? ", " : "", shape[i]);
  if (shape.size() == 1) dims += ",";
  std::string header = absl::StrCat("{'descr': '<f4', 'fortran_order': False, 'shape': (", dims, "), }");
  // magic(6) + version(2) + length(2) + header + '\n', padded to 64 bytes.
  const size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", path));
  const char magic[] = "\x93NUMPY\x01\x00";
  out.write(magic, 8);
  const uint16_t len = static_cast<uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), header.size());
  out.write(reinterpret_cast<const char*>(data.data()), data.size() * sizeof(float));
  if (!out) return absl::DataLossError(absl::StrCat("write to ", path, " failed"));
  return absl::OkStatus();
}

absl::StatusOr<NpyArray> ReadNpyAsF32(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  const auto bad = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("npy file ", path, ": ", what));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return bad("not a .npy file");
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return bad("truncated header");
    header_len = 0;
    for (int i = 3; i >= 0; --i) header_len = (header_len << 8) | static_cast<uint8_t>(bytes[8 + i]);
    offset = 12;
  } else {
    return bad(absl::StrCat("unsupported format version ", major));
  }
  if (offset + header_len > bytes.size()) return bad("truncated header");
  const std::string header = bytes.substr(offset, header_len);
  const auto field = [&](const std::string& key) -> std::string {
    const size_t k = header.find("'" + key + "'");
    if (k == std::string::npos) return "";
    const size_t colon = header.find(':', k);
    return colon == std::string::npos ? "" : header.substr(colon + 1);
  };
  std::string descr = field("descr");
  const size_t q1 = descr.find('\''), q2 = descr.find('\'', q1 + 1);
  if (q1 == std::string::npos || q2 == std::string::npos) return bad("no descr");
  descr = descr.substr(q1 + 1, q2 - q1 - 1);
  if (absl::StartsWith(absl::StripAsciiWhitespace(field("fortran_order")), "True")) {
    return bad("Fortran order is not supported");
  }
  std::string shape_text = field("shape");
  const size_t p1 = shape_text.find('('), p2 = shape_text.find(')');
  if (p1 == std::string::npos || p2 == std::string::npos) return bad("no shape");
  NpyArray arr;
  int64_t n = 1;
  for (absl::string_view part : absl::StrSplit(shape_text.substr(p1 + 1, p2 - p1 - 1), ',', absl::SkipWhitespace())) {
    int64_t d;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(part), &d) || d < 0) return bad("bad shape");
    arr.shape.push_back(d);
    n *= d;
  }
  size_t elem;
  if (descr == "<f4" || descr == "<i4") elem = 4;
  else if (descr == "<f8" || descr == "<i8") elem = 8;
  else if (descr == "<i2") elem = 2;
  else if (descr == "|u1" || descr == "|b1") elem = 1;
  else return bad(absl::StrCat("unsupported dtype '", descr, "'"));
  const size_t data_offset = offset + header_len;
  if (bytes.size() - data_offset < static_cast<size_t>(n) * elem) {
    return bad(absl::StrCat("truncated: needs ", n * elem, " data bytes, has ", bytes.size() - data_offset));
  }
  arr.data.resize(n);
  const char* src = bytes.data() + data_offset;
  for (int64_t i = 0; i < n; ++i) {
    const char* p = src + i * elem;
    if (descr == "<f4") { float v; std::memcpy(&v, p, 4); arr.data[i] = v; }
    else if (descr == "<f8") { double v; std::memcpy(&v, p, 8); arr.data[i] = static_cast<float>(v); }
    else if (descr == "<i4") { int32_t v; std::memcpy(&v, p, 4); arr.data[i] = static_cast<float>(v); }
    else if (descr == "<i8") { int64_t v; std::memcpy(&v, p, 8); arr.data[i] = static_cast<float>(v); }
    else if (descr == "<i2") { int16_t v; std::memcpy(&v, p, 2); arr.data[i] = v; }
    else { arr.data[i] = static_cast<uint8_t>(*p); }
  }
  return arr;
}

}  // namespace gemma3n
