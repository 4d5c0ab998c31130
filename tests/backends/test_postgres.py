"""The SCRAM-SHA-256 verifier a PostgreSQL role's password is set from (pure: no server)."""

from __future__ import annotations

import base64
import hmac

from deployflow.backends.postgres import scram_verifier

# RFC 7677's example exchange: user "user", password "pencil"
SALT = "W22ZaJ0SNY7soEsUEjb6gQ=="
AUTH_MESSAGE = (
    "n=user,r=rOprNGfwEbeRWgbNEkqO,"
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,"
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
)
SERVER_SIGNATURE = "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_the_verifier_signs_rfc_7677s_exchange() -> None:
    verifier = scram_verifier("pencil", base64.b64decode(SALT))
    method, rest = verifier.split("$", 1)
    iterations_salt, keys = rest.split("$")
    assert method == "SCRAM-SHA-256" and iterations_salt == f"4096:{SALT}"
    server_key = base64.b64decode(keys.split(":")[1])
    signature = hmac.new(server_key, AUTH_MESSAGE.encode(), "sha256").digest()
    assert base64.b64encode(signature).decode() == SERVER_SIGNATURE


def test_a_fresh_salt_each_time_and_no_password_inside() -> None:
    one, two = scram_verifier("s3cret-pw"), scram_verifier("s3cret-pw")
    assert one != two and "s3cret-pw" not in one
