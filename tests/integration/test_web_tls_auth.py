"""TLS and basic auth from an exporter-toolkit web config file (--web.config.file), checked with
curl: the right certificate and password get 200, a wrong password 401 with WWW-Authenticate,
plain HTTP to the TLS port fails cleanly (the agent keeps serving), client certificates are
enforced, and the file is re-read on SIGHUP (a bad file is rejected, the old one stays).
GnuTLS is loaded only when the web config asks for it: a plain-HTTP agent does not map it, a
reload to TLS loads it in the running agent, and where it cannot be loaded (hidden by a bind
mount in a private mount namespace) the config is rejected with the reason and the agent keeps
serving plain HTTP.
Certificates are made with openssl, bcrypt hashes with htpasswd (apache2-utils), so the agent
is checked against independent implementations."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fslib import BIN, Agent, check, fail, require_tool, run, wait_for  # noqa: E402

OPENSSL = require_tool("openssl")
CURL = require_tool("curl")
HTPASSWD = require_tool("htpasswd")


def make_ca(d, name):
    key, crt = os.path.join(d, name + ".key"), os.path.join(d, name + ".crt")
    run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key, "-out", crt, "-days", "2", "-subj", f"/CN={name}",
         "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return key, crt


def make_cert(d, name, ca_key, ca_crt, ext):
    key, csr, crt = (os.path.join(d, name + s) for s in (".key", ".csr", ".crt"))
    extfile = os.path.join(d, name + ".ext")
    with open(extfile, "w") as f:
        f.write(ext)
    run([OPENSSL, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", key, "-out", csr, "-subj", f"/CN={name}"])
    run([OPENSSL, "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
         "-out", crt, "-days", "2", "-extfile", extfile])
    return key, crt


def bcrypt(user, password):
    out = run([HTPASSWD, "-nbBC", "5", user, password]).stdout.strip()
    return out.split(":", 1)[1]


def curl(url, *args):
    """Returns (curl exit code, HTTP status or 0, response headers text)."""
    p = subprocess.run([CURL, "-sS", "--max-time", "5", "-o", "/dev/null", "-D", "-",
                        "-w", "%{http_code}", *args, url], capture_output=True, text=True)
    lines = p.stdout.strip().splitlines()
    code = int(lines[-1]) if lines and lines[-1].isdigit() else 0
    return p.returncode, code, p.stdout + p.stderr


def maps_gnutls(agent):
    """True when the agent process has libgnutls mapped, and the path it mapped."""
    with open(f"/proc/{agent.proc.pid}/maps") as f:
        paths = [line.split()[-1] for line in f if "libgnutls.so" in line]
    return (bool(paths), paths[0] if paths else None)


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def main():
    d = tempfile.mkdtemp(prefix="fspk-tls-")
    try:
        ca_key, ca_crt = make_ca(d, "ca")
        rogue_key, rogue_crt = make_ca(d, "rogue-ca")
        srv_key, srv_crt = make_cert(d, "server", ca_key, ca_crt,
                                     "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
        cli_key, cli_crt = make_cert(d, "client", ca_key, ca_crt, "extendedKeyUsage=clientAuth\n")
        bad_key, bad_crt = make_cert(d, "intruder", rogue_key, rogue_crt, "extendedKeyUsage=clientAuth\n")
        alice = bcrypt("alice", "s3cret")

        web = os.path.join(d, "web.yml")
        # Relative file names are relative to the web config's directory (exporter-toolkit rule).
        basic = (f"tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
                 f"basic_auth_users:\n  alice: '{alice}'\n"
                 f"http_server_config:\n  headers:\n    X-Content-Type-Options: nosniff\n")
        write(web, basic)

        # A broken file is rejected by --check-config with file, line and key.
        bad = os.path.join(d, "bad.yml")
        write(bad, "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  client_auth: Require\n")
        p = run([BIN, "--web.config.file", bad, "--check-config"], check_rc=False)
        check(p.returncode == 1, f"--check-config accepted a bad web config: {p.stdout}{p.stderr}")
        check(f"{bad}:4: tls_server_config.client_auth: unknown key" in p.stderr,
              f"error does not name file, line and key: {p.stderr}")
        p = run([BIN, "--web.config.file", web, "--check-config"], check_rc=False)
        check(p.returncode == 0, f"--check-config rejected a good web config: {p.stderr}")
        # collect and check never read TLS material: a web config they cannot use does not stop them.
        p = run([BIN, "--web.config.file", bad, "collect"], check_rc=False)
        check(p.returncode == 0 and "foreshock_build_info" in p.stdout, f"collect failed on the web config: {p.stderr}")

        # Plain HTTP never maps GnuTLS (it is opened on demand, exporters/prometheus/gnutls_lazy.h).
        with Agent(["--web.listen-address", "127.0.0.1:0", "serve"]) as agent:
            wait_for(lambda: curl(f"http://{agent.addresses[0]}/metrics")[1] == 200, timeout=10,
                     what="plain HTTP /metrics")
            check(not maps_gnutls(agent)[0], "a plain-HTTP agent mapped libgnutls")

        with Agent(["--web.listen-address", "127.0.0.1:0", "--web.config.file", web, "serve"]) as agent:
            addr = agent.addresses[0]
            https, http = f"https://{addr}/metrics", f"http://{addr}/metrics"
            tls = ["--cacert", ca_crt]
            wait_for(lambda: curl(https, *tls, "-u", "alice:s3cret")[1] == 200, timeout=10,
                     what="HTTPS with the right password to return 200")
            mapped, gnutls_path = maps_gnutls(agent)
            check(mapped, "a TLS agent serves HTTPS without libgnutls mapped?")
            rc, code, out = curl(https, *tls, "-u", "alice:s3cret")
            check("x-content-type-options: nosniff" in out.lower(), f"configured header missing:\n{out}")
            p = subprocess.run([CURL, "-sS", "--max-time", "5", *tls, "-u", "alice:s3cret", https],
                               capture_output=True, text=True)
            check("foreshock_build_info" in p.stdout, "authenticated /metrics has no metrics")

            rc, code, out = curl(https, *tls, "-u", "alice:wrong")
            check(code == 401, f"wrong password gave {code}, not 401")
            check('www-authenticate: basic realm="foreshock"' in out.lower(), f"401 without WWW-Authenticate:\n{out}")
            check(curl(https, *tls)[1] == 401, "no credentials did not give 401")
            check(curl(https, *tls, "-u", "mallory:s3cret")[1] == 401, "unknown user did not give 401")

            # Plain HTTP to the TLS port: refused quickly (no hang: curl's exit is not 28, timeout),
            # and the agent still serves TLS afterwards.
            rc, code, out = curl(http)
            check(rc != 0 and code == 0, f"plain HTTP to the TLS port got an HTTP answer: rc={rc} code={code}")
            check(rc != 28, "plain HTTP to the TLS port hung until curl's timeout")
            check(curl(https, *tls, "-u", "alice:s3cret")[1] == 200, "agent stopped serving after a plain-HTTP client")
            check(agent.proc.poll() is None, "agent died on a plain-HTTP client")

            # SIGHUP: switch to required, verified client certificates and a new password.
            write(web, f"tls_server_config:\n  cert_file: {srv_crt}\n  key_file: {srv_key}\n"
                       f"  client_ca_file: ca.crt\n  client_auth_type: RequireAndVerifyClientCert\n"
                       f"basic_auth_users:\n  alice: '{bcrypt('alice', 'n3w')}'\n")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: "web configuration reloaded" in agent.output(), timeout=10, what="the web reload")
            good = [*tls, "--cert", cli_crt, "--key", cli_key]
            check(curl(https, *good, "-u", "alice:n3w")[1] == 200, "client cert + new password not accepted")
            check(curl(https, *good, "-u", "alice:s3cret")[1] == 401, "old password still accepted after reload")
            rc, code, _ = curl(https, *tls, "-u", "alice:n3w")
            check(code == 0 and rc != 0, f"no client certificate was accepted (rc={rc}, code={code})")
            rc, code, _ = curl(https, *tls, "--cert", bad_crt, "--key", bad_key, "-u", "alice:n3w")
            check(code == 0 and rc != 0, f"a certificate from another CA was accepted (rc={rc}, code={code})")

            # A bad file on SIGHUP is rejected as a whole; the running settings stay.
            write(web, "tls_server_config:\n  cert_file: missing.crt\n  key_file: server.key\n")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: "missing.crt" in agent.output(), timeout=10, what="the rejection to be logged")
            check("new configuration rejected" in agent.output(), "rejection not logged")
            check(curl(https, *good, "-u", "alice:n3w")[1] == 200, "a rejected file changed the running TLS settings")
            rc, code, _ = curl(https, *tls, "-u", "alice:n3w")
            check(code == 0, "client certificates stopped being enforced after a rejected reload")

            # Back to plain HTTP by emptying the file: the same port now speaks HTTP.
            write(web, "")
            agent.signal(signal.SIGHUP)
            wait_for(lambda: curl(http)[1] == 200, timeout=10, what="plain HTTP after TLS was removed")
            check(agent.addresses[0] == addr, "port changed")

        # A plain agent switched to TLS by SIGHUP loads GnuTLS at that moment.
        plain = os.path.join(d, "plain.yml")
        write(plain, "")
        with Agent(["--web.listen-address", "127.0.0.1:0", "--web.config.file", plain, "serve"]) as agent:
            addr = agent.addresses[0]
            wait_for(lambda: curl(f"http://{addr}/metrics")[1] == 200, timeout=10, what="plain HTTP")
            check(not maps_gnutls(agent)[0], "an empty web config mapped libgnutls")
            write(plain, basic.replace("server.crt", srv_crt).replace("server.key", srv_key))
            agent.signal(signal.SIGHUP)
            wait_for(lambda: curl(f"https://{addr}/metrics", "--cacert", ca_crt, "-u", "alice:s3cret")[1] == 200,
                     timeout=10, what="HTTPS after a reload from plain HTTP")
            check(maps_gnutls(agent)[0], "HTTPS served after the reload without libgnutls mapped")

        # GnuTLS missing (hidden by an empty file bind-mounted over it in a private mount
        # namespace): --check-config names the problem; a running plain agent rejects the TLS
        # config on SIGHUP and keeps serving.
        hide = ["unshare", "-m", "sh", "-c", f'mount --bind /dev/null "{gnutls_path}" && exec "$0" "$@"']
        write(web, basic)
        p = run(hide + [BIN, "--web.config.file", web, "--check-config"], check_rc=False)
        check(p.returncode == 1 and f"{web}: cannot load libgnutls.so.30" in p.stderr,
              f"--check-config without GnuTLS ({gnutls_path} hidden): rc={p.returncode} {p.stdout} {p.stderr}")
        write(plain, "")
        with Agent(["--web.listen-address", "127.0.0.1:0", "--web.config.file", plain, "serve"],
                   wrapper=hide) as agent:
            addr = agent.addresses[0]
            wait_for(lambda: curl(f"http://{addr}/metrics")[1] == 200, timeout=10, what="plain HTTP, no GnuTLS")
            write(plain, basic.replace("server.crt", srv_crt).replace("server.key", srv_key))
            agent.signal(signal.SIGHUP)
            wait_for(lambda: "cannot load libgnutls.so.30" in agent.output(), timeout=10,
                     what="the GnuTLS load failure to be logged")
            check("new configuration rejected" in agent.output(), f"rejection not logged:\n{agent.output()}")
            check(curl(f"http://{addr}/metrics")[1] == 200, "plain HTTP stopped after the rejected TLS config")
            check(agent.proc.poll() is None, "agent died when GnuTLS could not be loaded")
        print("ok")
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
