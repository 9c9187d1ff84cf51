"""Where the verifier gets the public key for a token: one fixed PEM key, or a JWKS endpoint."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt import PyJWKClient
from jwt.exceptions import PyJWKClientConnectionError, PyJWKClientError, PyJWTError

from agenthub.errors import AuthenticationError, ConfigurationError, ServiceUnavailableError
from agenthub.observability import get_logger

MIN_RSA_KEY_BITS = 2048
# A token must never make a request wait long on the identity provider.
JWKS_TIMEOUT_S = 3.0
# At most one forced re-fetch per this many seconds: tokens with made-up `kid`s cannot turn
# the verifier into a request amplifier against the JWKS endpoint.
JWKS_REFETCH_COOLDOWN_S = 30.0


class KeySource(Protocol):
    def key_for(self, header: Mapping[str, Any]) -> rsa.RSAPublicKey:
        """The RSA public key that should have signed a token with this (unverified) header."""
        ...


def load_rsa_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse a configured PEM public key; refuses anything but RSA of at least 2048 bits."""
    # Environment variables and secrets often carry the PEM with escaped newlines.
    text = pem.strip().replace("\\n", "\n")
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError as exc:
        raise ConfigurationError("auth.public_key_pem is not a valid PEM public key") from exc
    if not isinstance(key, rsa.RSAPublicKey):
        raise ConfigurationError("auth.public_key_pem must be an RSA public key (RS256)")
    if key.key_size < MIN_RSA_KEY_BITS:
        raise ConfigurationError(f"auth.public_key_pem must be at least {MIN_RSA_KEY_BITS} bits")
    return key


class StaticKeySource:
    """One configured key; the token's `kid`, if any, is not needed to pick it."""

    def __init__(self, key: rsa.RSAPublicKey) -> None:
        self._key = key

    @classmethod
    def from_pem(cls, pem: str) -> StaticKeySource:
        return cls(load_rsa_public_key(pem))

    def key_for(self, header: Mapping[str, Any]) -> rsa.RSAPublicKey:
        return self._key


class JwksKeySource:
    """Keys from a JWKS endpoint, chosen by the token's `kid`.

    The key set is cached for the configured TTL; a `kid` missing from the cached set triggers
    one re-fetch (key rotation), rate limited by the client's cooldown.
    """

    def __init__(self, client: PyJWKClient) -> None:
        self._client = client

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        cache_ttl_s: float,
        timeout_s: float = JWKS_TIMEOUT_S,
        refetch_cooldown_s: float = JWKS_REFETCH_COOLDOWN_S,
    ) -> JwksKeySource:
        try:
            client = PyJWKClient(
                url,
                cache_jwk_set=cache_ttl_s > 0,
                lifespan=cache_ttl_s if cache_ttl_s > 0 else 1,
                timeout=timeout_s,
                cooldown_duration=refetch_cooldown_s,
            )
        except PyJWKClientError as exc:
            raise ConfigurationError(f"auth.jwks_url is not usable: {exc}") from exc
        return cls(client)

    def key_for(self, header: Mapping[str, Any]) -> rsa.RSAPublicKey:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthenticationError("token header has no key id (kid)")
        try:
            jwk = self._client.get_signing_key(kid)
        except PyJWKClientConnectionError as exc:
            get_logger().warning("JWKS fetch failed", extra={"jwks_url": self._client.uri})
            raise ServiceUnavailableError("token signing keys are unavailable") from exc
        except PyJWKClientError as exc:
            raise AuthenticationError("token is signed with an unknown key (kid)") from exc
        except PyJWTError as exc:  # the endpoint answered with a malformed key set
            get_logger().warning("JWKS is malformed", extra={"jwks_url": self._client.uri})
            raise ServiceUnavailableError("token signing keys are unavailable") from exc
        key = jwk.key
        if jwk.algorithm_name != "RS256" or not isinstance(key, rsa.RSAPublicKey):
            raise AuthenticationError("token is signed with a key that is not an RS256 key")
        if key.key_size < MIN_RSA_KEY_BITS:
            raise AuthenticationError("token is signed with a key that is too short")
        return key
