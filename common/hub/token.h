// The Hugging Face access token, looked up as the Python client does: the
// --token flag, then HF_TOKEN, then the file `hf auth login` writes
// ($HF_TOKEN_PATH, default $HF_HOME/token). Empty when there is none.
#pragma once

#include <optional>
#include <string>

namespace gemma3n::hub {

std::string FindToken(const std::optional<std::string>& flag);

}  // namespace gemma3n::hub
