#include "exporters/prometheus/web_config.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace foreshock {
namespace {

TEST(WebConfig, ParsesTheExporterToolkitExample) {
  auto cfg = parseWebConfig(
      "tls_server_config:\n"
      "  cert_file: server.crt\n"
      "  key_file: /etc/keys/server.key\n"
      "  client_ca_file: ca.crt\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  min_version: TLS13\n"
      "basic_auth_users:\n"
      "  alice: $2y$10$abcdefghijklmnopqrstuu5Gm0y1U6vTqKz1pJ4ulQ0Ykz4M2WfCu\n",
      "web.yml", "/etc/foreshock");
  ASSERT_TRUE(cfg.ok()) << cfg.error().message;
  ASSERT_TRUE(cfg->tls.has_value());
  EXPECT_EQ(cfg->tls->cert_file, "/etc/foreshock/server.crt");
  EXPECT_EQ(cfg->tls->key_file, "/etc/keys/server.key");
  EXPECT_EQ(cfg->tls->client_auth, ClientAuth::kRequireAndVerifyClientCert);
  EXPECT_EQ(gnutlsPriorities(*cfg->tls), "NORMAL:%SERVER_PRECEDENCE:-VERS-ALL:+VERS-TLS1.3");
  EXPECT_EQ(cfg->basic_auth_users.count("alice"), 1u);
}

TEST(WebConfig, NamesFileLineAndKeyOfAnUnknownKey) {
  auto cfg = parseWebConfig("tls_server_config:\n  cert_file: a\n  key_file: b\n  kye: c\n",
                            "web.yml", ".");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("web.yml:4: tls_server_config.kye: unknown key"),
            std::string::npos)
      << cfg.error().message;
}

TEST(WebConfig, RejectsAPlainTextPassword) {
  auto cfg = parseWebConfig("basic_auth_users:\n  bob: hunter2\n", "web.yml", ".");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("web.yml:2: basic_auth_users.bob: not a bcrypt hash"),
            std::string::npos)
      << cfg.error().message;
}

TEST(WebConfig, RejectsABrokenBcryptHashAtLoadNamingUserAndProblem) {
  const std::string good = "$2y$05$iO9JB3Twod5mDvHhly3uXuRVFbzw9ZO8c9F5k65eCeDAtd34iMJJa";
  struct Case {
    std::string hash, problem;
  };
  const Case cases[] = {
      {good.substr(0, 59), "bcrypt hash is 59 characters long, expected 60"},
      {good + "a", "bcrypt hash is 61 characters long, expected 60"},
      {"$2y$03$" + good.substr(7), "bcrypt cost 03 is out of range (04 to 31)"},
      {"$2y$32$" + good.substr(7), "bcrypt cost 32 is out of range (04 to 31)"},
      {"$2y$1x$" + good.substr(7), "no two-digit cost"},
      {"$2x$05$" + good.substr(7), "not a bcrypt hash (it must start with $2a$, $2b$ or $2y$)"},
      {good.substr(0, 20) + "!" + good.substr(21), "the character '!' at position 21"},
      // Salt ending in 'v' instead of 'u': libxcrypt rewrites such a salt, so nothing matches.
      {good.substr(0, 28) + "v" + good.substr(29), "bcrypt salt ends in 'v'"},
      {good.substr(0, 59) + "b", "bcrypt hash ends in 'b'"},
  };
  for (const auto& c : cases) {
    auto cfg = parseWebConfig("basic_auth_users:\n  carol: \"" + c.hash + "\"\n", "web.yml", ".");
    ASSERT_FALSE(cfg.ok()) << c.hash;
    EXPECT_EQ(cfg.error().message.rfind("web.yml:2: basic_auth_users.carol: ", 0), 0u)
        << cfg.error().message;
    EXPECT_NE(cfg.error().message.find(c.problem), std::string::npos) << cfg.error().message;
    // Each would have made every login fail silently ($2x$, libxcrypt's legacy prefix, is not
    // one exporter-toolkit accepts, so a file using it is not portable).
    if (c.hash.rfind("$2x$", 0) != 0) {
      EXPECT_FALSE(verifyPasswordHash("secret", c.hash)) << c.hash;
    }
  }
  EXPECT_FALSE(bcryptHashProblem(good).has_value());
  EXPECT_TRUE(verifyPasswordHash("secret", good));
}

TEST(WebConfig, DuplicateKeysAreErrorsSoASecondUserEntryNeverWinsSilently) {
  const std::string h = "$2y$05$iO9JB3Twod5mDvHhly3uXuRVFbzw9ZO8c9F5k65eCeDAtd34iMJJa";
  auto cfg = parseWebConfig("basic_auth_users:\n  alice: " + h + "\n  alice: " + h +
                                "\nbasic_auth_users:\n  bob: " + h + "\n",
                            "web.yml", ".");
  ASSERT_FALSE(cfg.ok());
  EXPECT_EQ(cfg.error().message,
            "web.yml:3: basic_auth_users.alice: duplicate key (first on line 2); each key may "
            "appear once\n"
            "web.yml:4: basic_auth_users: duplicate key (first on line 1); each key may appear "
            "once");
}

TEST(WebConfig, ReportsEachProblemOnItsOwnLine) {
  auto cfg = parseWebConfig(
      "tls_server_config:\n  cert_file: a\n  kye: c\nbasic_auth_users:\n  bob: hunter2\n"
      "colour: red\n",
      "web.yml", ".");
  ASSERT_FALSE(cfg.ok());
  const auto& m = cfg.error().message;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n') + 1, 4) << m;  // kye, key_file, bob, colour
}

TEST(WebConfig, RejectsAClientCaWithoutAClientAuthPolicy) {
  auto cfg = parseWebConfig(
      "tls_server_config:\n  cert_file: a\n  key_file: b\n  client_ca_file: c\n", "web.yml", ".");
  ASSERT_FALSE(cfg.ok());
  EXPECT_NE(cfg.error().message.find("client_auth_type is NoClientCert"), std::string::npos);
}

TEST(WebConfig, EmptyFileMeansPlainHttpWithoutAuth) {
  auto cfg = parseWebConfig("", "web.yml", ".");
  ASSERT_TRUE(cfg.ok());
  EXPECT_FALSE(cfg->tls.has_value());
  EXPECT_TRUE(cfg->basic_auth_users.empty());
}

TEST(BasicAuthorization, DecodesUserAndPassword) {
  auto c = parseBasicAuthorization("Basic YWxpY2U6czNjcjp0");  // alice:s3cr:t
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->first, "alice");
  EXPECT_EQ(c->second, "s3cr:t");
}

TEST(BasicAuthorization, RejectsOtherSchemesAndBrokenBase64) {
  EXPECT_FALSE(parseBasicAuthorization("Bearer YWxpY2U6eA==").has_value());
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U6e=A=").has_value());
  EXPECT_FALSE(parseBasicAuthorization("Basic !!!!").has_value());
  EXPECT_FALSE(parseBasicAuthorization("Basic YWxpY2U=").has_value());  // no colon
}

TEST(PasswordHash, VerifiesBcryptHashesFromOtherImplementations) {
  // "secret", hashed by htpasswd -nbB ($2y$, APR), python3-bcrypt with prefix 2a (the form Go's
  // bcrypt and so exporter-toolkit users produce) and crypt(3) ($2b$).
  const std::string apr = "$2y$05$iO9JB3Twod5mDvHhly3uXuRVFbzw9ZO8c9F5k65eCeDAtd34iMJJa";
  const std::string go_style = "$2a$04$M6ZEXAx9SS27zS7UDWOfF.EhdAa9/ivwN9bFAsPU9SJzos.jgR182";
  const std::string libc = "$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW";
  for (const auto& h : {apr, go_style, libc}) {
    EXPECT_TRUE(verifyPasswordHash("secret", h)) << h;
    EXPECT_FALSE(verifyPasswordHash("Secret", h)) << h;
  }
}

TEST(PasswordHash, NeverMatchesAMalformedHash) {
  EXPECT_FALSE(verifyPasswordHash("secret", "$2b$04$abcdefghijklmnopqrstuu"));
  EXPECT_FALSE(verifyPasswordHash("secret", "plain"));
  EXPECT_FALSE(verifyPasswordHash("", ""));
}

}  // namespace
}  // namespace foreshock
