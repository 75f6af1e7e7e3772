from .registry import MODEL_REGISTRY, build_model, register_model
from . import byol  # noqa: F401  (registers the models)

__all__ = ["MODEL_REGISTRY", "build_model", "register_model"]
