#include "common/request/generation_proto.h"

#include <algorithm>
#include <cstdint>

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;

// The sampling fields have the same names in both messages.
template <typename Message>
void ReadSampling(const Message& m, GenerationSettings& s) {
  if (m.has_temperature()) s.temperature = m.temperature();
  if (m.has_top_k()) s.top_k = m.top_k();
  if (m.has_top_p()) s.top_p = m.top_p();
  if (m.has_min_p()) s.min_p = m.min_p();
  if (m.has_repetition_penalty()) s.repetition_penalty = m.repetition_penalty();
  if (m.has_seed()) s.seed = m.seed();
}

// Values out of a proto field's range are clamped to it; the receiver's
// ValidateGeneration reports them (a clamped value is out of range too).
template <typename Message>
void WriteSampling(const GenerationSettings& s, Message& m) {
  if (s.temperature) m.set_temperature(static_cast<float>(*s.temperature));
  if (s.top_k) m.set_top_k(static_cast<int32_t>(std::clamp<int64_t>(*s.top_k, INT32_MIN, INT32_MAX)));
  if (s.top_p) m.set_top_p(static_cast<float>(*s.top_p));
  if (s.min_p) m.set_min_p(static_cast<float>(*s.min_p));
  if (s.repetition_penalty) m.set_repetition_penalty(static_cast<float>(*s.repetition_penalty));
  if (s.seed) m.set_seed(*s.seed);
}

}  // namespace

GenerationSettings SettingsFromPublic(const pb::GenerationConfig& c) {
  GenerationSettings s;
  if (c.has_max_new_tokens()) s.max_new_tokens = c.max_new_tokens();
  ReadSampling(c, s);
  return s;
}

void SettingsToPublic(const GenerationSettings& s, pb::GenerationConfig* c) {
  if (s.max_new_tokens) {
    c->set_max_new_tokens(static_cast<int32_t>(std::clamp<int64_t>(*s.max_new_tokens, INT32_MIN, INT32_MAX)));
  }
  WriteSampling(s, *c);
}

GenerationSettings SettingsFromInternal(const ipb::TextGenerateRequest& r) {
  GenerationSettings s;
  if (r.has_max_new_tokens()) s.max_new_tokens = r.max_new_tokens();
  ReadSampling(r.sampling(), s);
  return s;
}

void ParamsToInternal(const GenerationParams& p, ipb::TextGenerateRequest* r) {
  r->set_max_new_tokens(p.max_new_tokens);
  WriteSampling(SettingsOf(p.sampling), *r->mutable_sampling());
}

}  // namespace gemma3n
