"""dp-lint: find PyTorch model code that breaks Opacus' per-sample gradients."""

__version__ = "0.2.0"
