# Part of the multi-file SimSiam case (see models/simsiam.py): stop-gradient helper and symmetric loss.
import torch.nn.functional as F


def stopgrad(tensor):
    return tensor.detach()


def symmetric_negative_cosine(p1, p2, z1, z2):
    return -0.5 * (F.cosine_similarity(p1, stopgrad(z2), dim=-1) + F.cosine_similarity(p2, stopgrad(z1), dim=-1))
