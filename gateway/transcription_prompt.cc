#include "gateway/transcription_prompt.h"

#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace gemma3n {

std::string LanguageName(const std::string& language) {
  static const std::map<std::string, std::string> kNames = {
      {"ar", "Arabic"},   {"de", "German"},     {"en", "English"},  {"es", "Spanish"}, {"fr", "French"},
      {"hi", "Hindi"},    {"id", "Indonesian"}, {"it", "Italian"},  {"ja", "Japanese"}, {"ko", "Korean"},
      {"nl", "Dutch"},    {"pl", "Polish"},     {"pt", "Portuguese"}, {"ru", "Russian"}, {"sv", "Swedish"},
      {"th", "Thai"},     {"tr", "Turkish"},    {"uk", "Ukrainian"}, {"vi", "Vietnamese"}, {"zh", "Chinese"},
  };
  const auto it = kNames.find(absl::AsciiStrToLower(language));
  return it == kNames.end() ? language : it->second;
}

std::string TranscriptionInstruction(v1::TranscribeTask task, const std::string& language,
                                     const std::string& context) {
  const std::string name = LanguageName(language);
  std::string text;
  if (task == v1::TRANSCRIBE_TASK_TRANSLATE) {
    text = name.empty() ? "Transcribe the following speech segment, then translate it into English:"
                        : absl::StrCat("Transcribe the following speech segment in ", name,
                                       ", then translate it into English:");
    text += " answer with the English text only.";
  } else {
    text = name.empty() ? "Transcribe the following speech segment into text:"
                        : absl::StrCat("Transcribe the following speech segment in ", name, " into ", name, " text:");
  }
  if (!context.empty()) absl::StrAppend(&text, "\nContext (names, spelling): ", context);
  return text;
}

}  // namespace gemma3n
