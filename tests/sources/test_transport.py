"""Transport safety of the HTTP layer against a real TLS server: a refused certificate fails at
once with its reason, plain http:// leaves this machine only when allowed, and a pagination link
is never followed to another scheme, host or port."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from puente.sources.http import HttpClient, SourceError
from puente.sources.shopify import ShopifyConfig, ShopifyConnector

NOW = dt.datetime.now(dt.UTC)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _certificate(subject: str, key, issuer: str, issuer_key, *, ca: bool = False, ip: str | None = None,
                 dns: str | None = None, expired: bool = False) -> x509.Certificate:
    start = NOW - dt.timedelta(days=30 if expired else 1)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(NOW - dt.timedelta(days=1) if expired else NOW + dt.timedelta(days=30))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ip or dns:
        import ipaddress

        names = [x509.IPAddress(ipaddress.ip_address(ip))] if ip else [x509.DNSName(dns)]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A private certificate authority and server certificates: good, expired, for another name,
    and self-signed."""
    folder = tmp_path_factory.mktemp("pki")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("Puente test CA", ca_key, "Puente test CA", ca_key, ca=True)
    files = {"ca": folder / "ca.pem"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    server_key = ec.generate_private_key(ec.SECP256R1())
    key_pem = server_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    variants = {
        "good": _certificate("127.0.0.1", server_key, "Puente test CA", ca_key, ip="127.0.0.1"),
        "expired": _certificate("127.0.0.1", server_key, "Puente test CA", ca_key, ip="127.0.0.1", expired=True),
        "other_name": _certificate("shop.example.com", server_key, "Puente test CA", ca_key, dns="shop.example.com"),
        "self_signed": _certificate("127.0.0.1", server_key, "127.0.0.1", server_key, ip="127.0.0.1"),
    }
    for variant, certificate in variants.items():
        files[variant] = folder / f"{variant}.pem"
        files[variant].write_bytes(certificate.public_bytes(serialization.Encoding.PEM) + key_pem)
    return files


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the standard library's name)
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def https_server(certificate: Path | None):
    """A server on 127.0.0.1 answering 200; TLS with ``certificate``, plain HTTP when None."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    if certificate is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _client(url: str) -> tuple[HttpClient, list[float]]:
    slept: list[float] = []
    return HttpClient("Shopify", url, sleep=slept.append), slept


@pytest.mark.parametrize(("variant", "reason"), [
    ("self_signed", "self-signed certificate"),
    ("expired", "certificate has expired"),
    ("other_name", "IP address mismatch"),
])
def test_a_refused_certificate_fails_at_once_with_its_reason(pki, monkeypatch, variant, reason):
    monkeypatch.setenv("SSL_CERT_FILE", str(pki["ca"]))  # the private authority is trusted
    with https_server(pki[variant]) as url:
        client, slept = _client(url)
        with pytest.raises(SourceError) as caught:
            client.request("GET", "/customers.json", obj="customers")
    message = str(caught.value)
    assert "certificate refused" in message and reason in message
    assert "This is not an outage" in message and "SSL_CERT_FILE" in message
    assert client.requests_made == 1 and slept == []  # never retried as "the service is down"


def test_tls_to_a_port_that_does_not_speak_it_fails_at_once(pki):
    with https_server(None) as url:  # plain HTTP behind an https:// URL
        client, slept = _client(url)
        with pytest.raises(SourceError, match="TLS handshake failed") as caught:
            client.request("GET", "/customers.json", obj="customers")
    assert client.requests_made == 1 and slept == [] and "retry" not in str(caught.value)


def test_a_certificate_of_a_trusted_private_authority_is_accepted(pki, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", str(pki["ca"]))
    with https_server(pki["good"]) as url:
        client, _ = _client(url)
        assert client.request("GET", "/customers.json", obj="customers").json() == {"ok": True}


@pytest.mark.parametrize("url", ["http://127.0.0.1:8069", "http://localhost:8765/odoo", "http://[::1]:9/x",
                                 "https://erp.example.com", "http://app.localhost:80"])
def test_https_and_this_machine_need_no_permission(url, monkeypatch):
    monkeypatch.delenv("PUENTE_ALLOW_HTTP_HOSTS", raising=False)
    HttpClient("Odoo", url).close()


def test_plain_http_to_another_host_is_refused_unless_allowed(monkeypatch):
    monkeypatch.delenv("PUENTE_ALLOW_HTTP_HOSTS", raising=False)
    with pytest.raises(SourceError, match=r"refused: plain http:// .*PUENTE_ALLOW_HTTP_HOSTS=erp.example.com"):
        HttpClient("Odoo", "http://erp.example.com/odoo")
    with pytest.raises(SourceError, match="refused: plain http://"):
        HttpClient("Odoo", "http://10.0.0.5:8069")  # a private address is still another machine
    monkeypatch.setenv("PUENTE_ALLOW_HTTP_HOSTS", "simulators, ERP.example.com")
    HttpClient("Odoo", "http://erp.example.com/odoo").close()
    HttpClient("Odoo", "http://simulators:8765/odoo").close()


@pytest.mark.parametrize(("link", "shown"), [
    ("http://shop.myshopify.com/admin/api/2025-01/customers.json?page_info=b", "http://shop.myshopify.com"),
    ("https://evil.example/admin/api/2025-01/customers.json?page_info=b", "https://evil.example"),
    ("https://shop.myshopify.com:8443/admin/api/2025-01/customers.json?page_info=b",
     "https://shop.myshopify.com:8443"),
])
def test_a_pagination_link_to_another_scheme_host_or_port_is_never_followed(link, shown):
    asked: list[str] = []

    def shop(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(200, json={"customers": [{"id": 1, "updated_at": "2026-11-16T10:00:00-05:00"}]},
                              headers={"Link": f'<{link}>; rel="next"'})

    connector = ShopifyConnector(ShopifyConfig("https://shop.myshopify.com/admin/api/2025-01", "shpat_secret"),
                                 transport=httpx.MockTransport(shop))
    with pytest.raises(SourceError, match=f"a Link header pointing at {shown}"):
        list(connector.extract("customers", None))
    assert len(asked) == 1  # the token never travelled to the link


def test_a_same_origin_pagination_link_is_followed():
    base = "https://shop.myshopify.com/admin/api/2025-01"
    pages = iter([(f'<{base}/customers.json?page_info=b&limit=250>; rel="next"', 1), (None, 2)])

    def shop(request: httpx.Request) -> httpx.Response:
        link, rid = next(pages)
        return httpx.Response(200, json={"customers": [{"id": rid, "updated_at": "2026-11-16T10:00:00-05:00"}]},
                              headers={"Link": f"{link}"} if link else {})

    connector = ShopifyConnector(ShopifyConfig(base, "shpat_secret"), transport=httpx.MockTransport(shop))
    assert [r.source_id for page in connector.extract("customers", None) for r in page.records] == ["1", "2"]
