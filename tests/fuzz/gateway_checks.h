// The gateway's checks of a GenerateRequest, in Generate's order, for the
// targets whose input ends up as one (fuzz_request: the gRPC bytes,
// fuzz_http_request: the OpenAI HTTP API's translation): the settings, the
// stop strings, the media (ValidateMessages inside), the context, the
// prompt, its length; then the stop strings filter the prompt's own text.
//
// The gateway is the real E2B one: its config.json (tests/data/real-configs)
// and the real tokenizer.json. Not the tiny model's tokenizer.model: the
// SentencePiece module must be loaded with RTLD_DEEPBIND next to gRPC's
// libprotobuf, and AddressSanitizer refuses RTLD_DEEPBIND (see README.md).
//
// No encoder runs (the gateway does not link them): each media part gets the
// encoding an encoder would return, of the right shape: an image one span of
// vision_soft_tokens_per_image rows, audio 1-3 spans (by the data's length) of
// audio_soft_tokens_per_image rows. With well-shaped encodings BuildPrompt
// must never fail with an internal error (fuzz::Violated if it does).
#pragma once

#include "absl/status/status.h"
#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n::fuzz {

// Loads the config and tokenizer once (from LLVMFuzzerInitialize).
void LoadGateway();

// OK when the gateway would send the request on to the workers; the
// refusal otherwise. Aborts (Violated) on a broken contract.
absl::Status CheckAsGateway(const v1::GenerateRequest& request);

}  // namespace gemma3n::fuzz
