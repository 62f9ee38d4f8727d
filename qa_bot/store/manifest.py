"""The manifest of an index generation (``manifest.json``): what it holds, how it was built, and the
size and sha256 of every other file, checked when the generation is loaded.

It records the format and package versions, the model and its dimension, the chunking
parameters, each article's content hash (so a rebuild re-embeds only what changed), the vector
store, the build time and every file's checksums (``integrity``). An index of another format
version is refused with the command that rebuilds it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..errors import IndexCorruptError, IndexIncompatibleError
from ..version import __version__

FORMAT = "qa-bot-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REBUILD = "run 'qa-bot build' to rebuild it"


def new_manifest(
    model: str, dimension: int, chunking: dict[str, Any], articles: list[dict[str, Any]], built_at: str,
    *, vector_store: str = "faiss",
) -> dict[str, Any]:
    """A new generation's manifest; the builder adds what it knows of the embedding, and
    ``GenerationWriter`` the files."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "qa_bot_version": __version__,
        "model": {"name": model, "dimension": dimension},
        "chunking": chunking,
        "built_at": built_at,
        "articles": articles,
        "vector_store": vector_store,
    }


def read_manifest(gen_dir: Path) -> dict[str, Any]:
    """The manifest of generation ``gen_dir``, its format version and shape checked."""
    path = gen_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing; {REBUILD}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} is not a readable manifest ({exc}); {REBUILD}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorruptError(f"{path} is not a qa-bot index manifest; {REBUILD}")
    version = manifest.get("format_version")
    if version == FORMAT_VERSION:
        _check_manifest_shape(path, manifest)
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise IndexIncompatibleError(
            f"{path}: index format {version} is {'newer' if newer else 'older'} than this qa-bot "
            f"supports ({FORMAT_VERSION}); {REBUILD}" + (" or upgrade qa-bot" if newer else "")
        )
    return manifest


def _check_manifest_shape(path: Path, manifest: dict[str, Any]) -> None:
    """The manifest is the one file without a checksum: check every field that loading uses."""
    model = manifest.get("model")
    articles = manifest.get("articles")
    ok = (
        isinstance(model, dict)
        and isinstance(model.get("name"), str)
        and isinstance(model.get("dimension"), int)
        and model["dimension"] > 0
        and isinstance(manifest.get("files"), dict)
        and all(isinstance(v, dict) for v in manifest["files"].values())
        and isinstance(manifest.get("chunking"), dict)
        and isinstance(manifest.get("vector_store", "faiss"), str)
        and isinstance(articles, list)
        and all(isinstance(a, dict) and isinstance(a.get("id"), str) and isinstance(a.get("hash"), str)
                for a in articles)
    )
    if not ok:
        raise IndexCorruptError(f"{path} is missing fields or has fields of the wrong type; {REBUILD}")
