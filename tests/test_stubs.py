"""The type stubs and the README's function table are generated from the one table: fail when
either is stale, and check the public API under `mypy --strict` (when mypy is installed)."""

import importlib.util
import os
import subprocess
import sys

import pytest

import fastact

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def _tool(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "tools", name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_stubs_are_current():
    stubs = _tool("stubs")
    pkg = os.path.dirname(fastact.__file__)
    for name, make in stubs.STUBS.items():
        with open(os.path.join(pkg, name)) as f:
            assert f.read() == make(), f"fastact/{name} is stale: run python tools/stubs.py"
    assert os.path.exists(os.path.join(pkg, "py.typed"))


def test_stubs_name_every_public_function():
    with open(os.path.join(os.path.dirname(fastact.__file__), "__init__.pyi")) as f:
        stub = f.read()
    for name in fastact.__all__:
        assert f"def {name}(" in stub or f" {name} as {name}" in stub, name


def test_readme_function_table_is_current(capsys):
    _tool("api_table").main()
    table = capsys.readouterr().out
    with open(os.path.join(ROOT, "README.md")) as f:
        assert table in f.read(), "README's function table is stale: python tools/api_table.py"


def _mypy(path):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "--config-file",
            os.path.join(ROOT, "pyproject.toml"),
            path,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_typed_example_passes_mypy_strict(tmp_path):
    pytest.importorskip("mypy")
    r = _mypy(os.path.join(ROOT, "examples", "typed_usage.py"))
    assert r.returncode == 0, r.stdout + r.stderr
    # and the stubs carry the dtype (float32 in, float32 out), and a wrong argument is an error
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import numpy as np\nimport fastact\nx = np.zeros(3, np.float32)\n"
        "reveal_type(fastact.gelu(x))\nreveal_type(fastact.silu_backward(x, x))\n"
        "fastact.elu(x, alpha='big')\n"
    )
    r = _mypy(str(bad))
    lines = r.stdout.splitlines()
    assert r.returncode == 1, r.stdout
    assert all("_32Bit]" in next(s for s in lines if f"bad.py:{i}:" in s) for i in (4, 5))
    assert any("bad.py:6: error" in s for s in lines), r.stdout
