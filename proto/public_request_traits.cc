#include "proto/public_request_traits.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/unknown_field_set.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/tokenizer/utf8.h"

namespace gemma3n::rpc {
namespace {

namespace gp = google::protobuf;

// Deeper than any message of the public API nests; bounds the walk whatever
// the bytes claim.
constexpr int kMaxDepth = 16;

// The path of the first string field of `bytes` (a serialized `type`) that
// is not valid UTF-8, walking nested messages; nullopt when there is none
// (or the bytes do not even split into fields).
std::optional<std::string> FirstInvalidUtf8(const std::string& bytes, const gp::Descriptor& type,
                                            const std::string& prefix, int depth) {
  gp::UnknownFieldSet fields;
  if (depth > kMaxDepth || !fields.ParseFromString(bytes)) return std::nullopt;
  std::map<int, int> occurrences;  // field number -> how many seen so far (repeated fields' index)
  for (int i = 0; i < fields.field_count(); ++i) {
    const gp::UnknownField& field = fields.field(i);
    const int index = occurrences[field.number()]++;
    const gp::FieldDescriptor* described = type.FindFieldByNumber(field.number());
    if (described == nullptr || field.type() != gp::UnknownField::TYPE_LENGTH_DELIMITED) continue;
    const std::string path =
        described->is_repeated() ? absl::StrCat(prefix, described->name(), "[", index, "]")
                                 : absl::StrCat(prefix, described->name());
    if (described->type() == gp::FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(field.length_delimited())) return path;
    } else if (described->type() == gp::FieldDescriptor::TYPE_MESSAGE) {
      auto inner = FirstInvalidUtf8(field.length_delimited(), *described->message_type(), path + ".", depth + 1);
      if (inner) return inner;
    }
  }
  return std::nullopt;
}

}  // namespace

grpc::Status ExplainParseFailure(const grpc::ByteBuffer& wire, const gp::Descriptor& type) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (wire.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  if (auto path = FirstInvalidUtf8(bytes, type, "", 0)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat(*path, " is not valid UTF-8 (text fields must be UTF-8; send media as bytes)"));
  }
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      absl::StrCat("the request is not a valid ", type.full_name(), " (malformed protobuf)"));
}

}  // namespace gemma3n::rpc
