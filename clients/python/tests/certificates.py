"""Test certificates made at test time (cryptography): a CA, a server and a client certificate it signed, and an
unrelated CA with a client certificate of its own. Keys are unencrypted PKCS#8 PEM, as the server reads them."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from pathlib import Path
from typing import List, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclasses.dataclass(frozen=True)
class TestCertificates:
    __test__ = False  # not a test class, whatever its name
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path
    other_client_cert: Path
    other_client_key: Path

    @classmethod
    def create(cls, directory: Path) -> "TestCertificates":
        ca_key, ca_cert = _certificate("Conversation store test CA", None, ca=True)
        other_key, other_cert = _certificate("Some other CA", None, ca=True)
        server = _certificate("localhost", (ca_key, ca_cert), server_names=["localhost", "127.0.0.1"])
        client = _certificate("agent-1", (ca_key, ca_cert))
        intruder = _certificate("intruder", (other_key, other_cert))

        def write(name: str, data: bytes) -> Path:
            path = directory / name
            path.write_bytes(data)
            return path

        return cls(
            ca=write("ca.pem", _pem(ca_cert)),
            server_cert=write("server.pem", _pem(server[1])), server_key=write("server.key", _key_pem(server[0])),
            client_cert=write("client.pem", _pem(client[1])), client_key=write("client.key", _key_pem(client[0])),
            other_ca=write("other-ca.pem", _pem(other_cert)),
            other_client_cert=write("other-client.pem", _pem(intruder[1])),
            other_client_key=write("other-client.key", _key_pem(intruder[0])))


def _certificate(common_name: str, issuer: Optional[Tuple[ec.EllipticCurvePrivateKey, x509.Certificate]], *,
                 ca: bool = False, server_names: Optional[List[str]] = None):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    signing_key, issuer_name = (key, subject) if issuer is None else (issuer[0], issuer[1].subject)
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer_name).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    else:
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [_general_name(n) for n in server_names]), critical=False)
    return key, builder.sign(signing_key, hashes.SHA256())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
