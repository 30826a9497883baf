#pragma once

#include <span>

namespace signpost::followup {

// The link-worker app's files (services/followup/app/), built into the binary
// (cmake/embed_web_assets.cmake) so follow-up serves them with nothing to install or find at run
// time.
struct AppAsset {
  const char* path;  // "/app/" for index.html
  const char* content_type;
  const char* body;
};

std::span<const AppAsset> AppAssets();

}  // namespace signpost::followup
