"""Text encoders: the embedding model behind small protocols, on PyTorch or ONNX Runtime, with
the pooling that turns token states into text, span and token vectors."""
