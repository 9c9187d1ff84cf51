"""RS256 JWT verification: the only way a request becomes a `Principal`.

Every failure is an `AuthenticationError` (401) whose message says what is wrong with the token
and never repeats any of it.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import jwt
from jwt import exceptions as jwt_errors
from pydantic import SecretStr

from agenthub.auth.keys import JwksKeySource, KeySource, StaticKeySource
from agenthub.auth.principal import Principal
from agenthub.errors import AuthenticationError, ConfigurationError

if TYPE_CHECKING:
    from agenthub.settings import Settings

ALGORITHMS = ["RS256"]
REQUIRED_CLAIMS = ("sub", "tenant_id", "exp", "iat", "iss", "aud")
# Far above any real token; refuses oversized input before any parsing.
MAX_TOKEN_CHARS = 8192
# Same rule as the tenants table's id check (agenthub.db.models.TENANT_ID_PATTERN); tenant ids
# become parts of cache keys and thread ids, so anything else is refused at the door.
TENANT_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
MAX_USER_ID_CHARS = 200
# A warm container sees the same user's token turn after turn: its verified principal is kept
# (by the exact token string) for at most this long, never past the token's own expiry. Bounded
# so that a key removed from the JWKS stops working within this time, as with the JWKS cache.
VERIFIED_TTL_S = 60.0
VERIFIED_CACHE_SIZE = 1024

# Most specific first; the messages describe the problem without echoing the token.
_MESSAGES: tuple[tuple[type[Exception], str], ...] = (
    (jwt_errors.ExpiredSignatureError, "token has expired"),
    (jwt_errors.ImmatureSignatureError, "token is not valid yet (iat or nbf is in the future)"),
    (jwt_errors.InvalidAudienceError, "token audience is not accepted"),
    (jwt_errors.InvalidIssuerError, "token issuer is not accepted"),
    (jwt_errors.InvalidIssuedAtError, "token 'iat' claim must be a number"),
    (jwt_errors.InvalidAlgorithmError, "token algorithm is not allowed (RS256 only)"),
    (jwt_errors.InvalidSignatureError, "token signature is invalid"),
    (jwt_errors.InvalidSubjectError, "token 'sub' claim must be a string"),
    (jwt_errors.InvalidJTIError, "token 'jti' claim must be a string"),
    (jwt_errors.InvalidKeyError, "token signing key is not acceptable"),
    (jwt_errors.DecodeError, "token is malformed"),
)


def _message_for(error: jwt_errors.PyJWTError) -> str:
    if isinstance(error, jwt_errors.MissingRequiredClaimError):
        return f"token is missing the required '{error.claim}' claim"
    for error_type, message in _MESSAGES:
        if isinstance(error, error_type):
            return message
    return "token is invalid"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class JwtVerifier:
    """Verifies end-user tokens: RS256 only, required claims, bounded lifetime."""

    def __init__(
        self,
        *,
        key_source: KeySource,
        issuer: str,
        audience: str,
        max_lifetime_s: int = 86_400,
        leeway_s: int = 30,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self._key_source = key_source
        self._issuer = issuer
        self._audience = audience
        self._max_lifetime_s = max_lifetime_s
        self._leeway_s = leeway_s
        self._clock = clock or (lambda: time.time())  # looked up per call: tests freeze time
        # token -> (principal, until when it may be served without verifying again)
        self._verified: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._verified_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> JwtVerifier:
        """PEM key or JWKS URL from `settings.auth`; in local mode, the development key."""
        auth = settings.auth
        key_source: KeySource
        if auth.public_key_pem is not None and auth.jwks_url:
            raise ConfigurationError("set auth.public_key_pem or auth.jwks_url, not both")
        if auth.jwks_url:
            if not settings.is_local and not auth.jwks_url.startswith("https://"):
                raise ConfigurationError("auth.jwks_url must use https outside local mode")
            key_source = JwksKeySource.from_url(auth.jwks_url, cache_ttl_s=auth.jwks_cache_ttl_s)
        elif auth.public_key_pem is not None:
            key_source = StaticKeySource.from_pem(auth.public_key_pem.get_secret_value())
        elif settings.is_local:
            from agenthub.auth.devkeys import ensure_dev_key_pair

            key_source = StaticKeySource.from_pem(
                ensure_dev_key_pair(settings.state_dir).public_pem
            )
        else:
            raise ConfigurationError("auth.public_key_pem or auth.jwks_url is required")
        return cls(
            key_source=key_source,
            issuer=auth.issuer,
            audience=auth.audience,
            max_lifetime_s=auth.max_token_lifetime_s,
            leeway_s=auth.leeway_s,
        )

    def verify(self, token: str) -> Principal:
        """The principal of a valid token; `AuthenticationError` for anything else."""
        if not isinstance(token, str) or not token:
            raise AuthenticationError("token is empty")
        if len(token) > MAX_TOKEN_CHARS:
            raise AuthenticationError("token is too large")
        now = self._clock()
        cached = self._recall(token, now)
        if cached is not None:
            return cached
        claims = self._decode(token)
        self._check_times(claims)
        principal = Principal(
            user_id=self._user_id(claims),
            tenant_id=self._tenant_id(claims),
            roles=self._roles(claims),
            token=SecretStr(token),
            claims=claims,
        )
        self._remember(token, principal, until=min(claims["exp"], now + VERIFIED_TTL_S))
        return principal

    def _recall(self, token: str, now: float) -> Principal | None:
        with self._verified_lock:
            entry = self._verified.get(token)
            if entry is None:
                return None
            principal, until = entry
            if now >= until:
                del self._verified[token]
                return None
            self._verified.move_to_end(token)
            return principal

    def _remember(self, token: str, principal: Principal, *, until: float) -> None:
        with self._verified_lock:
            self._verified[token] = (principal, until)
            self._verified.move_to_end(token)
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            # Checked before the key lookup so a forged header never costs a JWKS fetch.
            if header.get("alg") not in ALGORITHMS:
                raise jwt_errors.InvalidAlgorithmError("alg not allowed")
            key = self._key_source.key_for(header)
            return jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={
                    "require": list(REQUIRED_CLAIMS),
                    "verify_signature": True,
                    "enforce_minimum_key_length": True,
                },
            )
        except jwt_errors.PyJWTError as exc:
            raise AuthenticationError(_message_for(exc)) from exc

    def _check_times(self, claims: Mapping[str, Any]) -> None:
        # PyJWT also accepts numeric strings; a NumericDate is a JSON number (RFC 7519).
        for name in ("exp", "iat", "nbf"):
            if name in claims and not _is_number(claims[name]):
                raise AuthenticationError(f"token '{name}' claim must be a number")
        if claims["exp"] - claims["iat"] > self._max_lifetime_s:
            raise AuthenticationError(
                f"token lifetime exceeds the maximum of {self._max_lifetime_s} seconds"
            )
        if claims["exp"] <= claims["iat"]:
            raise AuthenticationError("token 'exp' must be later than 'iat'")

    @staticmethod
    def _user_id(claims: Mapping[str, Any]) -> str:
        sub = claims["sub"]
        if not sub.strip() or len(sub) > MAX_USER_ID_CHARS or not sub.isprintable():
            raise AuthenticationError("token 'sub' claim is not a valid user id")
        return str(sub)

    @staticmethod
    def _tenant_id(claims: Mapping[str, Any]) -> str:
        tenant_id = claims["tenant_id"]
        if not isinstance(tenant_id, str) or not TENANT_ID_PATTERN.fullmatch(tenant_id):
            raise AuthenticationError("token 'tenant_id' claim is not a valid tenant id")
        return tenant_id

    @staticmethod
    def _roles(claims: Mapping[str, Any]) -> frozenset[str]:
        roles = claims.get("roles", [])
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise AuthenticationError("token 'roles' claim must be a list of strings")
        return frozenset(roles)
