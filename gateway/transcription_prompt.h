// The instruction a Transcribe request sends with each 30 s window, in the
// wording of Gemma 3n's speech recognition and speech translation prompts
// ("Transcribe the following speech segment in <language> into <language>
// text", "... then translate it into English").
#pragma once

#include <string>

#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n {

// `language`: an ISO-639-1 code (common ones become their English names, the
// form the model was prompted with), a name, or empty (not said). `context`:
// the caller's hint (names, spelling), appended when not empty.
std::string TranscriptionInstruction(v1::TranscribeTask task, const std::string& language,
                                     const std::string& context);

// "English" for "en"; other strings as given.
std::string LanguageName(const std::string& language);

}  // namespace gemma3n
