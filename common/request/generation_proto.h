// The generation fields of the public GenerationConfig and of the internal
// TextGenerateRequest, to and from GenerationSettings. The one place that
// knows which proto field is which setting; a field unset in the message is
// unset in the settings.
#pragma once

#include "common/request/generation_params.h"
#include "gemma3n/internal/v1/internal.pb.h"
#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n {

GenerationSettings SettingsFromPublic(const gemma3n::v1::GenerationConfig& config);
// Sets only the fields that `settings` has (a client sends what it was given).
void SettingsToPublic(const GenerationSettings& settings, gemma3n::v1::GenerationConfig* config);

GenerationSettings SettingsFromInternal(const gemma3n::internal::v1::TextGenerateRequest& request);
// Every field set: the gateway sends what it validated, defaults resolved.
void ParamsToInternal(const GenerationParams& params, gemma3n::internal::v1::TextGenerateRequest* request);

}  // namespace gemma3n
