#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "common/cli/args.h"
#include "common/request/generation_flags.h"
#include "common/request/generation_proto.h"
#include "common/rpc/server.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "gemma3n/v1/gemma.grpc.pb.h"

namespace gemma3n::cli {
namespace {

namespace pb = gemma3n::v1;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

absl::StatusOr<pb::GenerationConfig> ConfigFromArgs(const Args& args) {
  pb::GenerationConfig c;
  ASSIGN_OR_RETURN(GenerationSettings settings, GenerationSettingsFromArgs(args));
  SettingsToPublic(settings, &c);
  for (const std::string& s : args.GetAll("stop")) c.add_stop(s);
  c.set_profile(args.Get("profile").value_or(""));
  c.set_ignore_eos(args.Has("ignore-eos"));
  return c;
}

// Streams one request's text to stdout; returns the full reply.
absl::StatusOr<std::string> StreamOnce(pb::Gemma::Stub& stub, const pb::GenerateRequest& request, bool verbose) {
  grpc::ClientContext ctx;
  auto reader = stub.Generate(&ctx, request);
  pb::GenerateResponse r;
  std::string reply;
  pb::Usage usage;
  pb::FinishReason finish = pb::FINISH_REASON_UNSPECIFIED;
  while (reader->Read(&r)) {
    std::fputs(r.text().c_str(), stdout);
    std::fflush(stdout);
    reply += r.text();
    if (r.has_usage()) usage = r.usage();
    if (r.finish_reason() != pb::FINISH_REASON_UNSPECIFIED) finish = r.finish_reason();
  }
  std::fputs("\n", stdout);
  RETURN_IF_ERROR(FromGrpcStatus(reader->Finish()));
  if (verbose) {
    std::fprintf(stderr, "[%s: prompt %d tokens, generated %d, first token %.3f s, %.1f tokens/s]\n",
                 pb::FinishReason_Name(finish).c_str(), usage.prompt_tokens(), usage.generated_tokens(),
                 usage.time_to_first_token_seconds(), usage.decode_tokens_per_second());
  }
  return reply;
}

pb::Message TextMessage(const std::string& role, const std::string& text) {
  pb::Message m;
  m.set_role(role);
  m.add_parts()->set_text(text);
  return m;
}

// The --image and --audio files as parts, images first.
absl::StatusOr<std::vector<pb::Part>> ReadMediaParts(const Args& args) {
  std::vector<pb::Part> media;
  for (const char* kind : {"image", "audio"}) {
    for (const std::string& file : args.GetAll(kind)) {
      ASSIGN_OR_RETURN(std::string bytes, ReadFile(file));
      pb::Part p;
      (std::string(kind) == "image" ? p.mutable_image() : p.mutable_audio())->set_data(std::move(bytes));
      media.push_back(std::move(p));
    }
  }
  return media;
}

// The turns so far and the request for the next one. The media go into the
// first user turn, before its text; a raw prompt (--raw) has no history.
class Conversation {
 public:
  Conversation(pb::GenerationConfig config, bool raw, const std::optional<std::string>& system,
               std::vector<pb::Part> media)
      : config_(std::move(config)), raw_(raw), media_(std::move(media)) {
    if (system) history_.push_back(TextMessage("system", *system));
  }

  pb::GenerateRequest Ask(const std::string& text) {
    pb::GenerateRequest req;
    *req.mutable_config() = config_;
    if (raw_) {
      req.set_prompt(text);
      return req;
    }
    pb::Message user;
    user.set_role("user");
    for (pb::Part& p : media_) *user.add_parts() = std::move(p);
    media_.clear();
    user.add_parts()->set_text(text);
    history_.push_back(user);
    for (const pb::Message& m : history_) *req.add_messages() = m;
    return req;
  }
  void Answered(const std::string& reply) {
    if (!raw_) history_.push_back(TextMessage("model", reply));
  }
  void Failed() {
    if (!raw_) history_.pop_back();  // the turn that failed
  }
  // Forgets every turn but the system prompt.
  void Reset() {
    history_.erase(std::remove_if(history_.begin(), history_.end(),
                                  [](const pb::Message& m) { return m.role() != "system"; }),
                   history_.end());
  }

 private:
  const pb::GenerationConfig config_;
  const bool raw_;
  std::vector<pb::Part> media_;
  std::vector<pb::Message> history_;
};

absl::Status PrintModelInfo(pb::Gemma::Stub& stub) {
  grpc::ClientContext ctx;
  pb::ModelInfo info;
  RETURN_IF_ERROR(FromGrpcStatus(stub.GetModelInfo(&ctx, pb::GetModelInfoRequest(), &info)));
  std::printf("%s", info.DebugString().c_str());
  return absl::OkStatus();
}

absl::Status PrintTokenCount(pb::Gemma::Stub& stub, const pb::GenerateRequest& req) {
  grpc::ClientContext ctx;
  pb::CountTokensRequest count;
  *count.mutable_messages() = req.messages();
  count.set_prompt(req.prompt());
  pb::CountTokensResponse out;
  RETURN_IF_ERROR(FromGrpcStatus(stub.CountTokens(&ctx, count, &out)));
  std::printf("%d tokens (context %d)\n", out.token_count(), out.context_limit());
  return absl::OkStatus();
}

// One user turn per line; /reset forgets the conversation.
absl::Status RunInteractive(pb::Gemma::Stub& stub, Conversation& conversation, bool verbose,
                            const std::string& addr) {
  const bool tty = isatty(STDIN_FILENO);
  if (tty) std::fprintf(stderr, "gemma3n chat with %s: a line per turn, /reset, /quit or Ctrl-D\n", addr.c_str());
  std::string line;
  for (;;) {
    if (tty) std::fputs("> ", stderr);
    if (!std::getline(std::cin, line) || line == "/quit") break;
    if (line.empty()) continue;
    if (line == "/reset") {
      conversation.Reset();
      continue;
    }
    absl::StatusOr<std::string> reply = StreamOnce(stub, conversation.Ask(line), verbose);
    if (!reply.ok()) {
      std::fprintf(stderr, "error: %s\n", reply.status().ToString().c_str());
      conversation.Failed();
      continue;
    }
    conversation.Answered(*reply);
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status RunChat(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          WithGenerationFlags({"addr", "prompt", "system", "image", "audio",
                                                               "stop", "profile", "timeout"}),
                                          {"raw", "quiet", "info", "count", "ignore-eos"}));
  const std::string addr = args.Get("addr").value_or("127.0.0.1:50051");
  auto stub = pb::Gemma::NewStub(MakeChannel(addr));
  ASSIGN_OR_RETURN(pb::GenerationConfig config, ConfigFromArgs(args));
  const bool verbose = !args.Has("quiet");
  if (args.Has("info")) return PrintModelInfo(*stub);

  ASSIGN_OR_RETURN(std::vector<pb::Part> media, ReadMediaParts(args));
  Conversation conversation(config, args.Has("raw"), args.Get("system"), std::move(media));
  if (auto prompt = args.Get("prompt")) {
    const pb::GenerateRequest req = conversation.Ask(*prompt);
    if (args.Has("count")) return PrintTokenCount(*stub, req);
    return StreamOnce(*stub, req, verbose).status();
  }
  return RunInteractive(*stub, conversation, verbose, addr);
}

}  // namespace gemma3n::cli
