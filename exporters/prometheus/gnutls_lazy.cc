// Lazy GnuTLS binding (see gnutls_lazy.h for why).
//
// Each function below has the exact prototype of the declaration in <gnutls/*.h>, so a
// mismatch is a compile error ("conflicting declaration of C function"), and forwards to the
// symbol of the same name in libgnutls.so.30. The list is every GnuTLS symbol libmicrohttpd.a
// references (`nm -u libmicrohttpd.a | grep gnutls`) plus the ones foreshock calls; the link
// fails on any symbol missing here, so a libmicrohttpd update that needs a new function cannot
// slip through.
//
// Two entry points are special. libmicrohttpd's library constructor calls
// gnutls_global_init() in every process: before loading that is a no-op (loadGnutls runs the
// real one), and gnutls_global_deinit() from its destructor is a no-op unless loaded.
// gnutls_malloc is a variable (libmicrohttpd allocates PSK keys through it): ours starts as
// malloc, GnuTLS's own default, and takes the library's value when it is loaded.

#include "exporters/prometheus/gnutls_lazy.h"

#include <dlfcn.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#define FORESHOCK_GNUTLS_FUNCTIONS(X)           \
  X(gnutls_alpn_set_protocols)                  \
  X(gnutls_bye)                                 \
  X(gnutls_certificate_allocate_credentials)    \
  X(gnutls_certificate_free_credentials)        \
  X(gnutls_certificate_get_peers)               \
  X(gnutls_certificate_server_set_request)      \
  X(gnutls_certificate_set_dh_params)           \
  X(gnutls_certificate_set_retrieve_function2)  \
  X(gnutls_certificate_set_retrieve_function3)  \
  X(gnutls_certificate_set_x509_key_mem)        \
  X(gnutls_certificate_set_x509_key_mem2)       \
  X(gnutls_certificate_set_x509_trust_mem)      \
  X(gnutls_certificate_verify_peers2)           \
  X(gnutls_cipher_get)                          \
  X(gnutls_credentials_set)                     \
  X(gnutls_deinit)                              \
  X(gnutls_dh_params_deinit)                    \
  X(gnutls_dh_params_import_pkcs3)              \
  X(gnutls_dh_params_init)                      \
  X(gnutls_global_deinit)                       \
  X(gnutls_global_init)                         \
  X(gnutls_handshake)                           \
  X(gnutls_hash_fast)                           \
  X(gnutls_init)                                \
  X(gnutls_priority_deinit)                     \
  X(gnutls_priority_init)                       \
  X(gnutls_priority_set)                        \
  X(gnutls_protocol_get_version)                \
  X(gnutls_psk_allocate_server_credentials)     \
  X(gnutls_psk_free_server_credentials)         \
  X(gnutls_psk_set_server_credentials_function) \
  X(gnutls_record_check_pending)                \
  X(gnutls_record_get_direction)                \
  X(gnutls_record_recv)                         \
  X(gnutls_record_send)                         \
  X(gnutls_session_get_ptr)                     \
  X(gnutls_session_set_ptr)                     \
  X(gnutls_strerror)                            \
  X(gnutls_transport_set_int2)

namespace {

constexpr const char* kLibrary = "libgnutls.so.30";

struct Table {
#define FORESHOCK_GNUTLS_SLOT(name) decltype(&::name) name = nullptr;
  FORESHOCK_GNUTLS_FUNCTIONS(FORESHOCK_GNUTLS_SLOT)
#undef FORESHOCK_GNUTLS_SLOT
};

Table g_table;
std::once_flag g_once;
std::string g_error;  // written once inside call_once, read after it
std::atomic<bool> g_loaded{false};

void loadOnce() {
  void* h = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* e = dlerror();
    g_error = std::string("cannot load ") + kLibrary +
              " for TLS/basic auth: " + (e != nullptr ? e : "unknown error") +
              " (install the libgnutls30 package)";
    return;
  }
  Table t;
#define FORESHOCK_GNUTLS_RESOLVE(name)                                              \
  t.name = reinterpret_cast<decltype(&::name)>(dlsym(h, #name));                    \
  if (t.name == nullptr) {                                                          \
    g_error = std::string(kLibrary) + " has no symbol " #name " (GnuTLS too old?)"; \
    dlclose(h);                                                                     \
    return;                                                                         \
  }
  FORESHOCK_GNUTLS_FUNCTIONS(FORESHOCK_GNUTLS_RESOLVE)
#undef FORESHOCK_GNUTLS_RESOLVE
  auto* real_malloc = reinterpret_cast<gnutls_alloc_function*>(dlsym(h, "gnutls_malloc"));
  if (real_malloc == nullptr || *real_malloc == nullptr) {
    g_error = std::string(kLibrary) + " has no symbol gnutls_malloc";
    dlclose(h);
    return;
  }
  int rc = t.gnutls_global_init();
  if (rc < 0) {
    g_error = std::string("gnutls_global_init failed: ") + t.gnutls_strerror(rc);
    dlclose(h);
    return;
  }
  gnutls_malloc = *real_malloc;
  g_table = t;
  g_loaded.store(true, std::memory_order_release);
}

// The loaded table; loads on first use. A forwarder reached without a successful load is a
// programming error (the web config loads GnuTLS before anything can call it): say why, stop.
const Table& table() {
  if (g_loaded.load(std::memory_order_acquire)) return g_table;
  std::call_once(g_once, loadOnce);
  if (!g_loaded.load(std::memory_order_acquire)) {
    std::fprintf(stderr, "foreshock: fatal: %s\n", g_error.c_str());
    std::abort();
  }
  return g_table;
}

}  // namespace

namespace foreshock {

Status loadGnutls() {
  std::call_once(g_once, loadOnce);
  if (g_loaded.load(std::memory_order_acquire)) return Status{};
  return makeError(g_error);
}

bool gnutlsLoaded() {
  return g_loaded.load(std::memory_order_acquire);
}

}  // namespace foreshock

extern "C" {

gnutls_alloc_function gnutls_malloc = std::malloc;

int gnutls_global_init(void) {
  if (!g_loaded.load(std::memory_order_acquire)) return 0;
  return g_table.gnutls_global_init();
}

void gnutls_global_deinit(void) {
  if (g_loaded.load(std::memory_order_acquire)) g_table.gnutls_global_deinit();
}

int gnutls_alpn_set_protocols(gnutls_session_t session, const gnutls_datum_t* protocols,
                              unsigned protocols_size, unsigned flags) {
  return table().gnutls_alpn_set_protocols(session, protocols, protocols_size, flags);
}

int gnutls_bye(gnutls_session_t session, gnutls_close_request_t how) {
  return table().gnutls_bye(session, how);
}

int gnutls_certificate_allocate_credentials(gnutls_certificate_credentials_t* res) {
  return table().gnutls_certificate_allocate_credentials(res);
}

void gnutls_certificate_free_credentials(gnutls_certificate_credentials_t sc) {
  table().gnutls_certificate_free_credentials(sc);
}

const gnutls_datum_t* gnutls_certificate_get_peers(gnutls_session_t session,
                                                   unsigned int* list_size) {
  return table().gnutls_certificate_get_peers(session, list_size);
}

void gnutls_certificate_server_set_request(gnutls_session_t session,
                                           gnutls_certificate_request_t req) {
  table().gnutls_certificate_server_set_request(session, req);
}

void gnutls_certificate_set_dh_params(gnutls_certificate_credentials_t res,
                                      gnutls_dh_params_t dh_params) {
  table().gnutls_certificate_set_dh_params(res, dh_params);
}

void gnutls_certificate_set_retrieve_function2(gnutls_certificate_credentials_t cred,
                                               gnutls_certificate_retrieve_function2* func) {
  table().gnutls_certificate_set_retrieve_function2(cred, func);
}

void gnutls_certificate_set_retrieve_function3(gnutls_certificate_credentials_t cred,
                                               gnutls_certificate_retrieve_function3* func) {
  table().gnutls_certificate_set_retrieve_function3(cred, func);
}

int gnutls_certificate_set_x509_key_mem(gnutls_certificate_credentials_t res,
                                        const gnutls_datum_t* cert, const gnutls_datum_t* key,
                                        gnutls_x509_crt_fmt_t type) {
  return table().gnutls_certificate_set_x509_key_mem(res, cert, key, type);
}

int gnutls_certificate_set_x509_key_mem2(gnutls_certificate_credentials_t res,
                                         const gnutls_datum_t* cert, const gnutls_datum_t* key,
                                         gnutls_x509_crt_fmt_t type, const char* pass,
                                         unsigned int flags) {
  return table().gnutls_certificate_set_x509_key_mem2(res, cert, key, type, pass, flags);
}

int gnutls_certificate_set_x509_trust_mem(gnutls_certificate_credentials_t res,
                                          const gnutls_datum_t* ca, gnutls_x509_crt_fmt_t type) {
  return table().gnutls_certificate_set_x509_trust_mem(res, ca, type);
}

int gnutls_certificate_verify_peers2(gnutls_session_t session, unsigned int* status) {
  return table().gnutls_certificate_verify_peers2(session, status);
}

gnutls_cipher_algorithm_t gnutls_cipher_get(gnutls_session_t session) {
  return table().gnutls_cipher_get(session);
}

int gnutls_credentials_set(gnutls_session_t session, gnutls_credentials_type_t type, void* cred) {
  return table().gnutls_credentials_set(session, type, cred);
}

void gnutls_deinit(gnutls_session_t session) {
  table().gnutls_deinit(session);
}

void gnutls_dh_params_deinit(gnutls_dh_params_t dh_params) {
  table().gnutls_dh_params_deinit(dh_params);
}

int gnutls_dh_params_import_pkcs3(gnutls_dh_params_t params, const gnutls_datum_t* pkcs3_params,
                                  gnutls_x509_crt_fmt_t format) {
  return table().gnutls_dh_params_import_pkcs3(params, pkcs3_params, format);
}

int gnutls_dh_params_init(gnutls_dh_params_t* dh_params) {
  return table().gnutls_dh_params_init(dh_params);
}

int gnutls_handshake(gnutls_session_t session) {
  return table().gnutls_handshake(session);
}

int gnutls_hash_fast(gnutls_digest_algorithm_t algorithm, const void* text, size_t textlen,
                     void* digest) {
  return table().gnutls_hash_fast(algorithm, text, textlen, digest);
}

int gnutls_init(gnutls_session_t* session, unsigned int flags) {
  return table().gnutls_init(session, flags);
}

void gnutls_priority_deinit(gnutls_priority_t priority_cache) {
  table().gnutls_priority_deinit(priority_cache);
}

int gnutls_priority_init(gnutls_priority_t* priority_cache, const char* priorities,
                         const char** err_pos) {
  return table().gnutls_priority_init(priority_cache, priorities, err_pos);
}

int gnutls_priority_set(gnutls_session_t session, gnutls_priority_t priority) {
  return table().gnutls_priority_set(session, priority);
}

gnutls_protocol_t gnutls_protocol_get_version(gnutls_session_t session) {
  return table().gnutls_protocol_get_version(session);
}

int gnutls_psk_allocate_server_credentials(gnutls_psk_server_credentials_t* sc) {
  return table().gnutls_psk_allocate_server_credentials(sc);
}

void gnutls_psk_free_server_credentials(gnutls_psk_server_credentials_t sc) {
  table().gnutls_psk_free_server_credentials(sc);
}

void gnutls_psk_set_server_credentials_function(gnutls_psk_server_credentials_t cred,
                                                gnutls_psk_server_credentials_function* func) {
  table().gnutls_psk_set_server_credentials_function(cred, func);
}

size_t gnutls_record_check_pending(gnutls_session_t session) {
  return table().gnutls_record_check_pending(session);
}

int gnutls_record_get_direction(gnutls_session_t session) {
  return table().gnutls_record_get_direction(session);
}

ssize_t gnutls_record_recv(gnutls_session_t session, void* data, size_t data_size) {
  return table().gnutls_record_recv(session, data, data_size);
}

ssize_t gnutls_record_send(gnutls_session_t session, const void* data, size_t data_size) {
  return table().gnutls_record_send(session, data, data_size);
}

void* gnutls_session_get_ptr(gnutls_session_t session) {
  return table().gnutls_session_get_ptr(session);
}

void gnutls_session_set_ptr(gnutls_session_t session, void* ptr) {
  table().gnutls_session_set_ptr(session, ptr);
}

const char* gnutls_strerror(int error) {
  return table().gnutls_strerror(error);
}

void gnutls_transport_set_int2(gnutls_session_t session, int r, int s) {
  table().gnutls_transport_set_int2(session, r, s);
}

}  // extern "C"
