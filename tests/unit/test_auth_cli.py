"""`agenthub token`: development tokens in local/test mode, refused anywhere else."""

from __future__ import annotations

import stat

import jwt
import pytest

from agenthub import composition
from agenthub.auth import JwtVerifier, ensure_dev_key_pair
from agenthub.auth.keys import StaticKeySource
from agenthub.cli import main
from agenthub.composition import get_jwt_verifier as get_verifier
from agenthub.settings import get_settings
from tests.conftest import TEST_AUDIENCE, TEST_ISSUER


def run_token(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["token", *args])
    out, err = capsys.readouterr()
    return code, out.strip(), err


def test_token_verifies_with_the_development_public_key(
    base_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # WHEN a token is requested in test mode
    code, token, _ = run_token(
        capsys, "--tenant", "acme", "--user", "u-1", "--role", "tenant_admin", "--ttl", "600"
    )

    # THEN it is signed by the dev key pair of the state directory, for the configured iss/aud
    assert code == 0
    pair = ensure_dev_key_pair(get_settings().state_dir)
    verifier = JwtVerifier(
        key_source=StaticKeySource.from_pem(pair.public_pem),
        issuer=TEST_ISSUER,
        audience=TEST_AUDIENCE,
    )
    principal = verifier.verify(token)
    assert (principal.tenant_id, principal.user_id) == ("acme", "u-1")
    assert principal.roles == frozenset({"tenant_admin"})
    assert principal.claims["exp"] - principal.claims["iat"] == 600
    assert jwt.get_unverified_header(token)["kid"] == pair.kid


def test_token_creates_the_key_pair_with_a_private_file(
    base_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    private = get_settings().state_dir / "jwt" / "private.pem"
    assert not private.exists()

    run_token(capsys, "--tenant", "acme", "--user", "u-1")

    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_token_is_accepted_by_the_local_verifier_when_no_key_is_configured(
    base_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AGENTHUB_AUTH__PUBLIC_KEY_PEM")
    composition.reset()

    code, token, err = run_token(capsys, "--tenant", "acme", "--user", "u-1")

    assert code == 0
    assert err == ""
    assert get_verifier().verify(token).user_id == "u-1"


def test_token_warns_when_the_api_verifies_with_another_key(
    base_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, err = run_token(capsys, "--tenant", "acme", "--user", "u-1")

    assert "public_key_pem" in err


def test_token_is_refused_outside_local_mode(
    base_env: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN production settings (complete enough to load)
    monkeypatch.setenv("AGENTHUB_ENV", "prod")
    monkeypatch.setenv("DATABASE_URL", "postgresql://agenthub:s3cr3t-pw@db.internal/agenthub")
    composition.reset()

    # WHEN a development token is requested
    code, out, err = run_token(capsys, "--tenant", "acme", "--user", "u-1")

    # THEN it is refused with a clear message, exit code 2, and no key is created
    assert code == 2
    assert out == ""
    assert "only works in local mode" in err
    assert not (get_settings().state_dir / "jwt").exists()


def test_ttl_beyond_the_maximum_lifetime_is_refused(
    base_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_token(capsys, "--tenant", "acme", "--user", "u-1", "--ttl", "86401")

    assert code == 2
    assert out == ""
    assert "--ttl may be at most 86400" in err


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["--ttl", "0"], id="zero-ttl"),
        pytest.param(["--ttl", "soon"], id="ttl-not-a-number"),
        pytest.param(["--role", "superuser"], id="unknown-role"),
    ],
)
def test_bad_arguments_exit_with_usage_error(
    base_env: None, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["token", "--tenant", "acme", "--user", "u-1", *args])

    assert exit_info.value.code == 2
