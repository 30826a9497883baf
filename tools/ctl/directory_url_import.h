// signpostctl directory import --url BASE: a remote Open Referral UK 3.0 API into the directory.
#pragma once

#include <string>

#include "tools/ctl/ctl_context.h"

namespace signpost::ctl {

struct UrlImportArgs {
  std::string base_url;
  int per_page = 50;
  std::string modified_after;
  std::string tls_ca;  // the remote API's CA (not the services' --tls-ca)
  int max_pages = 1000;
  int max_reply_mib = 16;
  int reply_timeout_seconds = 120;  // the whole of one reply
  int attempts = 4;
};

// Reads the API page by page (ReadOrukServices over HTTP) and streams each page's services to
// signpost-matching's ImportOpenReferralStream, as the file import streams files. Prints refused
// services and failed pages, then a summary; returns the exit code: 0 all imported, 1 services
// refused, 4 pages failed (the rest imported), 3 matching or the API unreachable, 2 a bad URL.
int ImportDirectoryFromUrl(const CtlContext& ctx, const UrlImportArgs& args);

}  // namespace signpost::ctl
