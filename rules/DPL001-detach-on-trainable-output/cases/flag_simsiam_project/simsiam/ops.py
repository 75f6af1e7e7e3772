# Part of the multi-file SimSiam case (see model.py): the project's stop-gradient helper and loss.
import torch.nn.functional as F


def stop_gradient(x):
    """SimSiam's stop-gradient operator."""
    return x.detach()


def negative_cosine(p, z):
    return -F.cosine_similarity(p, z, dim=-1)
