// The web configuration file of the Prometheus exporter-toolkit (--web.config.file), so that
// the TLS and basic-auth settings an operator already uses for node_exporter work unchanged:
//
//   tls_server_config:
//     cert_file: server.crt          # relative paths are relative to this file's directory
//     key_file: server.key
//     client_ca_file: ca.crt
//     client_auth_type: RequireAndVerifyClientCert
//     min_version: TLS12
//   http_server_config:
//     headers: {X-Frame-Options: deny}
//   basic_auth_users:
//     alice: $2y$10$...              # bcrypt hash
//
// Unknown keys and unsupported settings are errors naming the file, line and key.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace foreshock {

// Largest web config file (and TLS certificate, key or CA file) accepted; a larger one is an
// error naming the file and this cap, so the file is rejected whole and auth never fails open.
inline constexpr std::size_t kMaxWebConfigFileBytes = std::size_t{1} << 20;

// exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType names).
enum class ClientAuth {
  kNoClientCert,
  kRequestClientCert,
  kRequireAnyClientCert,
  kVerifyClientCertIfGiven,
  kRequireAndVerifyClientCert,
};

struct TlsServerConfig {
  std::string cert_file;  // resolved paths
  std::string key_file;
  std::string client_ca_file;  // "" when not given
  ClientAuth client_auth = ClientAuth::kNoClientCert;
  std::string min_version = "TLS12";  // TLS10, TLS11, TLS12, TLS13
  std::string max_version = "TLS13";
  bool prefer_server_cipher_suites = true;  // exporter-toolkit's default
  // The PEM contents, read by loadWebConfigFile (empty after parseWebConfig alone).
  std::string cert_pem, key_pem, client_ca_pem;

  bool operator==(const TlsServerConfig&) const = default;
};

// Thread-safety: immutable once loaded; shared read-only between HTTP threads.
struct WebConfig {
  std::string source;  // the file it came from
  std::optional<TlsServerConfig> tls;
  std::map<std::string, std::string> basic_auth_users;             // user -> bcrypt hash
  std::vector<std::pair<std::string, std::string>> extra_headers;  // http_server_config.headers
};

// Parses the YAML text (no file access: the TLS file names are resolved against `base_dir`
// but not read). Errors read "SOURCE:LINE: KEY: problem".
Result<WebConfig> parseWebConfig(const std::string& text, const std::string& source,
                                 const std::string& base_dir);

// Reads the file and every file it names, and checks that the key matches the certificate
// and that the client CA file holds at least one certificate (with GnuTLS), so a bad file is
// rejected as a whole before it replaces a working one.
Result<WebConfig> loadWebConfigFile(const std::string& path);

// GnuTLS priority string for the configured protocol versions.
std::string gnutlsPriorities(const TlsServerConfig& tls);

// "Basic dXNlcjpwYXNz" -> {"user", "pass"}; nullopt if not a well-formed Basic credential.
std::optional<std::pair<std::string, std::string>> parseBasicAuthorization(std::string_view header);

// Why `hash` cannot be a bcrypt hash that any password matches (prefix $2a$/$2b$/$2y$, cost
// 04..31, 53 characters of the bcrypt alphabet, canonical salt and hash endings); nullopt when
// it is well-formed. Checked at load, so a broken hash is an error naming the user instead of
// a login that always fails.
std::optional<std::string> bcryptHashProblem(std::string_view hash);

// True if `password` matches the crypt(3) hash (bcrypt $2a$/$2b$/$2y$, through libxcrypt).
// A malformed hash never matches.
bool verifyPasswordHash(const std::string& password, const std::string& hash);

}  // namespace foreshock
