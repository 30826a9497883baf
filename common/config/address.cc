#include "common/config/address.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace signpost {

std::string HostPort::ToString() const {
  if (host.find(':') != std::string::npos) return absl::StrCat("[", host, "]:", port);
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text, bool allow_port_zero) {
  text = absl::StripAsciiWhitespace(text);
  absl::string_view host, port;
  if (absl::ConsumePrefix(&text, "[")) {
    auto close = text.find("]:");
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("'[", text, "' is not [address]:port"));
    }
    host = text.substr(0, close);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == absl::string_view::npos || text.find(':') != colon) {
      return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not host:port"));
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' has no host"));
  }
  uint32_t number = 0;
  if (!absl::SimpleAtoi(port, &number) || number > 65535 || (number == 0 && !allow_port_zero)) {
    return absl::InvalidArgumentError(absl::StrCat("'", port, "' is not a valid port",
                                                   allow_port_zero ? " (0-65535)" : " (1-65535)"));
  }
  return HostPort{std::string(host), static_cast<uint16_t>(number)};
}

absl::StatusOr<std::vector<HostPort>> ParseHostPortList(absl::string_view text) {
  std::vector<HostPort> out;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    auto hp = ParseHostPort(part);
    if (!hp.ok()) return hp.status();
    out.push_back(*std::move(hp));
  }
  if (out.empty()) return absl::InvalidArgumentError("no host:port given");
  return out;
}

std::string RedisAddress::ToString() const {
  return unix_socket.empty() ? tcp.ToString() : absl::StrCat("unix:", unix_socket);
}

absl::StatusOr<RedisAddress> ParseRedisAddress(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  RedisAddress address;
  if (absl::ConsumePrefix(&text, "unix:")) {
    if (text.empty() || text.front() != '/') {
      return absl::InvalidArgumentError("a unix socket address is unix:/absolute/path");
    }
    address.unix_socket = std::string(text);
    return address;
  }
  absl::ConsumePrefix(&text, "redis://");
  auto hp = ParseHostPort(text);
  if (!hp.ok()) return hp.status();
  address.tcp = *std::move(hp);
  return address;
}

}  // namespace signpost
