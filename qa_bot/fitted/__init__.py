"""The files fitted offline and shipped with the package (written by the scripts in ``tools/fit``).

- ``weights.json``: the answerer's ranking and answerability weights and thresholds
  (``tools/fit/answerer.py``), read by ``answer.config``.
- ``token_basis.npy``: the projection token states are stored under, float32 (384, 129): the
  mean token state, then the basis's columns (``tools/fit/token_basis.py``).
- ``token_adapter.npy``: MaxSim's query adapter for that projection, float32 (128, 128)
  (``tools/fit/token_adapter.py``).
"""

from pathlib import Path

HERE = Path(__file__).parent
WEIGHTS_FILE = HERE / "weights.json"
BASIS_FILE = HERE / "token_basis.npy"
ADAPTER_FILE = HERE / "token_adapter.npy"
