#include "exporters/prometheus/web_config.h"

#include <gtest/gtest.h>

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
      "  alice: $2y$10$abcdefghijklmnopqrstuu5Gm0y1U6vTqKz1pJ4ulQ0Ykz4M2WfC\n",
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
  EXPECT_NE(cfg.error().message.find("basic_auth_users.bob: expected a bcrypt hash"),
            std::string::npos);
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
