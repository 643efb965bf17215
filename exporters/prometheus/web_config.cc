#include "exporters/prometheus/web_config.h"

#include <crypt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <filesystem>
#include <memory>
#include <set>

#include "core/file_util.h"
#include "core/yaml_keys.h"
#include "exporters/prometheus/gnutls_lazy.h"

namespace foreshock {

namespace {

struct Ctx {
  std::string source;
  std::vector<std::string> errors;
  void error(const YAML::Node& n, const std::string& key, const std::string& msg) {
    std::string where = source;
    if (n.Mark().line >= 0) where += ":" + std::to_string(n.Mark().line + 1);
    errors.push_back(where + ": " + key + ": " + msg);
  }
};

std::optional<std::string> scalar(Ctx& ctx, const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) {
    ctx.error(n, key, "expected a string");
    return std::nullopt;
  }
  return n.Scalar();
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p[0] == '/' || base_dir.empty()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

std::optional<ClientAuth> parseClientAuth(const std::string& s) {
  if (s.empty() || s == "NoClientCert") return ClientAuth::kNoClientCert;
  if (s == "RequestClientCert") return ClientAuth::kRequestClientCert;
  if (s == "RequireAnyClientCert") return ClientAuth::kRequireAnyClientCert;
  if (s == "VerifyClientCertIfGiven") return ClientAuth::kVerifyClientCertIfGiven;
  if (s == "RequireAndVerifyClientCert") return ClientAuth::kRequireAndVerifyClientCert;
  return std::nullopt;
}

int versionRank(const std::string& v) {
  if (v == "TLS10") return 0;
  if (v == "TLS11") return 1;
  if (v == "TLS12") return 2;
  if (v == "TLS13") return 3;
  return -1;
}

void parseTls(Ctx& ctx, const YAML::Node& node, const std::string& base_dir, WebConfig& out) {
  const std::string p = "tls_server_config";
  if (node.IsNull()) return;
  if (!node.IsMap()) {
    ctx.error(node, p, "expected a map");
    return;
  }
  TlsServerConfig tls;
  std::string auth = "NoClientCert";
  for (const auto& kv : node) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    const YAML::Node& v = kv.second;
    std::string key = p + "." + k;
    if (k == "cert_file" || k == "key_file" || k == "client_ca_file") {
      auto s = scalar(ctx, v, key);
      if (!s) continue;
      std::string r = resolve(base_dir, *s);
      if (k == "cert_file") tls.cert_file = r;
      if (k == "key_file") tls.key_file = r;
      if (k == "client_ca_file") tls.client_ca_file = r;
    } else if (k == "client_auth_type") {
      if (auto s = scalar(ctx, v, key)) auth = *s;
    } else if (k == "min_version" || k == "max_version") {
      auto s = scalar(ctx, v, key);
      if (!s) continue;
      if (versionRank(*s) < 0) {
        ctx.error(v, key, "expected TLS10, TLS11, TLS12 or TLS13, got \"" + *s + "\"");
        continue;
      }
      (k == "min_version" ? tls.min_version : tls.max_version) = *s;
    } else if (k == "prefer_server_cipher_suites") {
      if (!v.IsScalar() || (v.Scalar() != "true" && v.Scalar() != "false")) {
        ctx.error(v, key, "expected true or false");
      } else {
        tls.prefer_server_cipher_suites = v.Scalar() == "true";
      }
    } else if (k == "cipher_suites" || k == "curve_preferences") {
      ctx.error(v, key,
                "not supported by foreshock (GnuTLS negotiates from its secure default list); "
                "remove the key");
    } else {
      ctx.error(kv.first, key,
                "unknown key (expected cert_file, key_file, client_ca_file, client_auth_type, "
                "min_version, max_version, prefer_server_cipher_suites)");
    }
  }
  auto ca = parseClientAuth(auth);
  if (!ca) {
    ctx.error(node, p + ".client_auth_type",
              "expected NoClientCert, RequestClientCert, RequireAnyClientCert, "
              "VerifyClientCertIfGiven or RequireAndVerifyClientCert, got \"" +
                  auth + "\"");
    return;
  }
  tls.client_auth = *ca;
  if (tls.cert_file.empty()) ctx.error(node, p + ".cert_file", "required when TLS is configured");
  if (tls.key_file.empty()) ctx.error(node, p + ".key_file", "required when TLS is configured");
  if (!tls.client_ca_file.empty() && tls.client_auth == ClientAuth::kNoClientCert) {
    ctx.error(node, p + ".client_ca_file",
              "a client CA is configured but client_auth_type is NoClientCert; set "
              "client_auth_type (e.g. RequireAndVerifyClientCert)");
  }
  // libmicrohttpd asks the client for a certificate only when it has a trust list.
  if (tls.client_ca_file.empty() && tls.client_auth != ClientAuth::kNoClientCert) {
    ctx.error(node, p + ".client_ca_file", "required with client_auth_type " + auth);
  }
  if (versionRank(tls.min_version) > versionRank(tls.max_version)) {
    ctx.error(node, p + ".min_version", "is above max_version");
  }
  out.tls = std::move(tls);
}

}  // namespace

Result<WebConfig> parseWebConfig(const std::string& text, const std::string& source,
                                 const std::string& base_dir) {
  Ctx ctx{source, {}};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return makeError(source + ":" + std::to_string(e.mark.line + 1) +
                     ": YAML syntax error: " + e.msg);
  }
  WebConfig cfg;
  cfg.source = source;
  if (root.IsNull()) return cfg;
  if (!root.IsMap()) {
    return makeError(source +
                     ": expected a map with tls_server_config, http_server_config, "
                     "basic_auth_users");
  }
  reportDuplicateYamlKeys(root, [&](const YAML::Node& key, const std::string& path,
                                    const std::string& message) { ctx.error(key, path, message); });
  std::set<std::string> seen;
  for (const auto& kv : root) {
    std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
    if (!seen.insert(k).second) continue;  // a duplicate, reported above
    const YAML::Node& v = kv.second;
    if (k == "tls_server_config") {
      parseTls(ctx, v, base_dir, cfg);
    } else if (k == "basic_auth_users") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) {
        ctx.error(v, k, "expected a map of user name to bcrypt hash");
        continue;
      }
      for (const auto& u : v) {
        std::string user = u.first.IsScalar() ? u.first.Scalar() : "";
        std::string key = k + "." + user;
        if (user.empty() || user.find(':') != std::string::npos) {
          ctx.error(u.first, k, "user names must be non-empty and contain no ':'");
          continue;
        }
        auto h = scalar(ctx, u.second, key);
        if (!h) continue;
        if (auto problem = bcryptHashProblem(*h)) {
          ctx.error(u.second, key,
                    *problem +
                        "; expected a bcrypt hash ($2a$, $2b$ or $2y$, cost 04 to 31, 60 "
                        "characters), e.g. from htpasswd -nBC 10 USER");
          continue;
        }
        cfg.basic_auth_users[user] = *h;
      }
    } else if (k == "http_server_config") {
      if (v.IsNull()) continue;
      if (!v.IsMap()) {
        ctx.error(v, k, "expected a map");
        continue;
      }
      for (const auto& h : v) {
        std::string hk = h.first.IsScalar() ? h.first.Scalar() : "?";
        if (hk == "http2") continue;  // HTTP/1.1 only; accepted so shared files load
        if (hk != "headers") {
          ctx.error(h.first, k + "." + hk, "unknown key (expected headers, http2)");
          continue;
        }
        if (!h.second.IsMap()) {
          ctx.error(h.second, k + ".headers", "expected a map of header name to value");
          continue;
        }
        for (const auto& hv : h.second) {
          std::string name = hv.first.IsScalar() ? hv.first.Scalar() : "";
          auto val = scalar(ctx, hv.second, k + ".headers." + name);
          if (name.empty() || !val) continue;
          if (name.find_first_of(" :\r\n") != std::string::npos ||
              val->find_first_of("\r\n") != std::string::npos) {
            ctx.error(hv.first, k + ".headers." + name, "invalid header name or value");
            continue;
          }
          cfg.extra_headers.emplace_back(name, *val);
        }
      }
    } else {
      ctx.error(kv.first, k,
                "unknown key (expected tls_server_config, http_server_config, basic_auth_users)");
    }
  }
  if (!ctx.errors.empty()) {
    std::string msg;
    for (const auto& e : ctx.errors) msg += (msg.empty() ? "" : "\n") + e;
    return makeError(msg);
  }
  return cfg;
}

namespace {

struct Creds {
  gnutls_certificate_credentials_t c = nullptr;
  Creds() { gnutls_certificate_allocate_credentials(&c); }
  ~Creds() { gnutls_certificate_free_credentials(c); }
};

Status checkTlsMaterial(const TlsServerConfig& tls) {
  Creds creds;
  gnutls_datum_t cert{reinterpret_cast<unsigned char*>(const_cast<char*>(tls.cert_pem.data())),
                      static_cast<unsigned>(tls.cert_pem.size())};
  gnutls_datum_t key{reinterpret_cast<unsigned char*>(const_cast<char*>(tls.key_pem.data())),
                     static_cast<unsigned>(tls.key_pem.size())};
  int rc = gnutls_certificate_set_x509_key_mem(creds.c, &cert, &key, GNUTLS_X509_FMT_PEM);
  if (rc < 0) {
    return makeError("tls_server_config: cert_file " + tls.cert_file + " / key_file " +
                     tls.key_file + ": " + gnutls_strerror(rc));
  }
  if (!tls.client_ca_pem.empty()) {
    gnutls_datum_t ca{reinterpret_cast<unsigned char*>(const_cast<char*>(tls.client_ca_pem.data())),
                      static_cast<unsigned>(tls.client_ca_pem.size())};
    int n = gnutls_certificate_set_x509_trust_mem(creds.c, &ca, GNUTLS_X509_FMT_PEM);
    if (n <= 0) {
      return makeError("tls_server_config: client_ca_file " + tls.client_ca_file + ": " +
                       (n < 0 ? gnutls_strerror(n) : "no certificate found"));
    }
  }
  return Status{};
}

}  // namespace

Result<WebConfig> loadWebConfigFile(const std::string& path) {
  auto text = readFileCapped(path, kMaxWebConfigFileBytes);
  if (!text) return makeError("web config file: " + text.error().message);
  std::string dir = std::filesystem::path(path).parent_path().string();
  auto cfg = parseWebConfig(*text, path, dir.empty() ? "." : dir);
  if (!cfg) return cfg;
  // TLS and the basic-auth cache both need GnuTLS, which plain HTTP never loads.
  if (cfg->tls || !cfg->basic_auth_users.empty()) {
    if (auto s = loadGnutls(); !s) return makeError(path + ": " + s.error().message);
  }
  if (cfg->tls) {
    auto& t = *cfg->tls;
    auto read = [&](const std::string& file, const char* key, std::string* out) -> Status {
      auto r = readFileCapped(file, kMaxWebConfigFileBytes);
      if (!r) return makeError(path + ": tls_server_config." + key + ": " + r.error().message);
      *out = std::move(*r);
      return Status{};
    };
    if (auto s = read(t.cert_file, "cert_file", &t.cert_pem); !s) return s.error();
    if (auto s = read(t.key_file, "key_file", &t.key_pem); !s) return s.error();
    if (!t.client_ca_file.empty()) {
      if (auto s = read(t.client_ca_file, "client_ca_file", &t.client_ca_pem); !s) {
        return s.error();
      }
    }
    if (auto s = checkTlsMaterial(t); !s) return makeError(path + ": " + s.error().message);
  }
  return cfg;
}

std::string gnutlsPriorities(const TlsServerConfig& tls) {
  static const char* const kNames[] = {"VERS-TLS1.0", "VERS-TLS1.1", "VERS-TLS1.2", "VERS-TLS1.3"};
  std::string p = "NORMAL";
  if (tls.prefer_server_cipher_suites) p += ":%SERVER_PRECEDENCE";
  p += ":-VERS-ALL";
  for (int i = versionRank(tls.min_version); i >= 0 && i <= versionRank(tls.max_version); ++i) {
    p += ":+";
    p += kNames[i];
  }
  return p;
}

namespace {
int b64value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::optional<std::string> bcryptHashProblem(std::string_view hash) {
  static constexpr std::string_view kAlphabet =
      "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  if (!startsWith(hash, "$2a$") && !startsWith(hash, "$2b$") && !startsWith(hash, "$2y$"))
    return std::string("not a bcrypt hash (it must start with $2a$, $2b$ or $2y$)");
  if (hash.size() < 7 || hash[6] != '$' || !std::isdigit(static_cast<unsigned char>(hash[4])) ||
      !std::isdigit(static_cast<unsigned char>(hash[5])))
    return std::string("bcrypt hash has no two-digit cost after the prefix (e.g. $2y$10$)");
  int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31)
    return "bcrypt cost " + std::string(hash.substr(4, 2)) + " is out of range (04 to 31)";
  std::string_view rest = hash.substr(7);
  if (rest.size() != 53)
    return "bcrypt hash is " + std::to_string(hash.size()) +
           " characters long, expected 60 (truncated or padded?)";
  for (std::size_t i = 0; i < rest.size(); ++i) {
    if (kAlphabet.find(rest[i]) == std::string_view::npos)
      return "bcrypt hash has the character '" + std::string(1, rest[i]) + "' at position " +
             std::to_string(i + 8) + ", outside the bcrypt alphabet [./A-Za-z0-9]";
  }
  // 22 salt characters carry 128 bits and 31 hash characters 184: the unused low bits of the
  // last character of each are zero in anything bcrypt produced. Otherwise libxcrypt would
  // rewrite the salt and no password could ever match.
  if (kAlphabet.find(rest[21]) % 16 != 0)
    return "bcrypt salt ends in '" + std::string(1, rest[21]) +
           "', which bcrypt never produces (one of . O e u); no password would ever match";
  if (kAlphabet.find(rest[52]) % 4 != 0)
    return "bcrypt hash ends in '" + std::string(1, rest[52]) +
           "', which bcrypt never produces; no password would ever match";
  return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> parseBasicAuthorization(
    std::string_view header) {
  header = trim(header);
  if (header.size() < 6) return std::nullopt;
  // The scheme is case-insensitive (RFC 7617).
  std::string scheme(header.substr(0, 6));
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "basic ") return std::nullopt;
  std::string_view b64 = trim(header.substr(6));
  if (b64.empty() || b64.size() % 4 != 0 || b64.size() > 4096) return std::nullopt;
  std::string out;
  unsigned acc = 0;
  int bits = 0;
  std::size_t pad = 0;
  for (std::size_t i = 0; i < b64.size(); ++i) {
    char c = b64[i];
    if (c == '=') {
      if (i + 2 < b64.size()) return std::nullopt;
      ++pad;
      continue;
    }
    if (pad > 0) return std::nullopt;
    int v = b64value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  auto colon = out.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(out.substr(0, colon), out.substr(colon + 1));
}

bool verifyPasswordHash(const std::string& password, const std::string& hash) {
  if (hash.size() < 7 || hash[0] != '$') return false;
  // crypt_data is ~32 KiB: on the heap, not on an HTTP thread's stack.
  auto data = std::make_unique<crypt_data>();
  const char* r = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (r == nullptr || r[0] == '*') return false;
  std::string_view got(r);
  if (got.size() != hash.size()) return false;
  unsigned char diff = 0;  // constant time over the hash length
  for (std::size_t i = 0; i < hash.size(); ++i) {
    diff |= static_cast<unsigned char>(got[i] ^ hash[i]);
  }
  return diff == 0;
}

}  // namespace foreshock
