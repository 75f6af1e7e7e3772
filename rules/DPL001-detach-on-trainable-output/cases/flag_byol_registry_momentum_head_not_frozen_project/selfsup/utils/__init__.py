from .momentum import deactivate_requires_grad, update_momentum, cosine_schedule

__all__ = ["deactivate_requires_grad", "update_momentum", "cosine_schedule"]
