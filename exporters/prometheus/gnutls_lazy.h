#pragma once
// GnuTLS is loaded only when the web config asks for TLS or basic auth.
//
// libmicrohttpd is linked statically (Debian's libmicrohttpd.a, same build as the shared
// library), and every GnuTLS function it or foreshock calls is defined in gnutls_lazy.cc as a
// forwarder to the real libgnutls.so.30, opened with dlopen on first use. An agent serving
// plain HTTP never maps GnuTLS and the eight libraries behind it (p11-kit, nettle, hogweed,
// gmp, libunistring, libidn2, libtasn1, libffi): about 2.3 MB of the resident set. The same
// pattern systemd uses for its optional libraries.

#include <string>

#include "core/result.h"

namespace foreshock {

// Opens libgnutls.so.30, resolves every function foreshock and libmicrohttpd use and runs
// gnutls_global_init. Safe to call from any thread, any number of times; the first outcome
// is remembered. The error names the library and the missing symbol.
Status loadGnutls();

// True once loadGnutls succeeded (the library is mapped).
bool gnutlsLoaded();

}  // namespace foreshock
