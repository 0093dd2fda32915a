#include "common/hub/hub_client.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/cli/retry.h"
#include "common/hub/http.h"
#include "common/hub/hub_responses.h"
#include "common/status/status_macros.h"

namespace gemma3n::hub {
namespace {

constexpr int kMaxRelativeRedirects = 5;

// Percent-encodes all but unreserved characters (and '/' when keep_slash).
std::string UrlEscape(const std::string& text, bool keep_slash) {
  std::string out;
  for (unsigned char c : text) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

// "scheme://host[:port]" of a URL.
std::string Origin(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t path = url.find('/', scheme + 3);
  return path == std::string::npos ? url : url.substr(0, path);
}

// The status for a non-2xx answer about `ref` (file: empty for the repo itself).
absl::Status HttpError(const HttpResponse& r, const std::string& endpoint, const ModelRef& ref,
                       const std::string& file, const std::string& url) {
  const std::string code = r.Header("x-error-code");
  const std::string what = file.empty() ? ref.repo : absl::StrCat(file, " of ", ref.repo);
  if (code == "RepoNotFound" || code == "RevisionNotFound" || code == "EntryNotFound" || r.status == 404) {
    // Without a token the hub answers 401 RepoNotFound for private repos too.
    const bool maybe_private = r.status == 401;
    return absl::NotFoundError(absl::StrCat(what, " at revision ", ref.revision, " is not on ", endpoint, " (HTTP ",
                                            r.status, "): check the repo id and --revision",
                                            maybe_private ? "; a private repo needs a token (--token, HF_TOKEN)" : ""));
  }
  if (r.status == 401 || r.status == 403 || code == "GatedRepo") {
    return absl::PermissionDeniedError(absl::StrCat(
        ref.repo, " is gated or private (HTTP ", r.status, "): accept the licence on ", endpoint, "/", ref.repo,
        " while signed in, then give a token with read access (--token, HF_TOKEN, or the token file `hf auth login` "
        "writes)"));
  }
  std::string body = r.body.substr(0, 200);
  const std::string message = absl::StrCat("HTTP ", r.status, " from ", url, body.empty() ? "" : ": ", body);
  if (IsTransientHttpStatus(r.status)) return absl::UnavailableError(message);
  return absl::FailedPreconditionError(message);
}

}  // namespace

HubClient::HubClient(HubClientOptions options) : options_(std::move(options)) {
  while (absl::EndsWith(options_.endpoint, "/")) options_.endpoint.pop_back();
}

std::string HubClient::TokenFor(const std::string& url) const {
  // The token is for the hub only, never for a CDN or mirror it redirects to.
  return Origin(url) == Origin(options_.endpoint) ? options_.token : std::string();
}

absl::StatusOr<ModelInfo> HubClient::GetModelInfo(const ModelRef& ref) const {
  const std::string url = absl::StrCat(options_.endpoint, "/api/models/", ref.repo, "/revision/",
                                       UrlEscape(ref.revision, /*keep_slash=*/false));
  HttpResponse response;
  RETURN_IF_ERROR(WithRetries(options_.retry, absl::StrCat("file list of ", ref.repo), [&]() -> absl::Status {
    HttpRequest request;
    request.url = url;
    request.bearer_token = TokenFor(url);
    ASSIGN_OR_RETURN(response, PerformHttp(request));
    if (response.status != 200) return HttpError(response, options_.endpoint, ref, "", url);
    return absl::OkStatus();
  }));
  return ParseModelInfo(response.body, url);
}

absl::StatusOr<FileMetadata> HubClient::GetFileMetadata(const std::string& repo, const std::string& commit,
                                                        const std::string& file) const {
  const ModelRef ref{repo, commit};
  std::string url = absl::StrCat(options_.endpoint, "/", repo, "/resolve/", commit, "/", UrlEscape(file, true));
  HttpResponse response;
  RETURN_IF_ERROR(WithRetries(options_.retry, file, [&]() -> absl::Status {
    std::string at = url;
    for (int hop = 0;; ++hop) {
      HttpRequest request;
      request.url = at;
      request.head = true;
      request.bearer_token = TokenFor(at);
      ASSIGN_OR_RETURN(response, PerformHttp(request));
      const std::string location = response.Header("location");
      const bool relative = absl::StartsWith(location, "/");
      if (response.status < 300 || response.status > 399 || !relative) break;
      if (hop == kMaxRelativeRedirects) return absl::DataLossError(absl::StrCat(url, ": too many redirects"));
      at = Origin(at) + location;  // a renamed repo: still the hub
    }
    if (response.status >= 400) return HttpError(response, options_.endpoint, ref, file, url);
    return absl::OkStatus();
  }));
  return ParseFileMetadata(response, repo, commit, file, url);
}

absl::Status HubClient::Fetch(const FileMetadata& meta, int64_t offset,
                              const std::function<absl::Status(const char*, size_t)>& on_bytes,
                              const std::function<absl::Status()>& restarted) const {
  HttpRequest request;
  request.url = meta.url;
  request.bearer_token = TokenFor(meta.url);
  request.follow_redirects = true;
  if (offset > 0) request.range_from = offset;
  request.on_body = on_bytes;
  request.on_body_start = [&](long status) -> absl::Status {
    if (offset > 0 && status == 200) return restarted();  // the range was ignored: the whole file comes
    return absl::OkStatus();
  };
  ASSIGN_OR_RETURN(const HttpResponse response, PerformHttp(request));
  if (response.status == 200 || response.status == 206) return absl::OkStatus();
  return HttpError(response, options_.endpoint, {meta.repo, meta.commit}, meta.file, meta.url);
}

}  // namespace gemma3n::hub
