# Part of the multi-file case (see encoder/blocks.py): the model factory and its name registry (CASE builds
# the model as train.py does, through build_encoder).
import torch.nn as nn
from opacus.layers import DPMultiheadAttention

from encoder.blocks import TokenEncoder

ATTENTION = {"torch": nn.MultiheadAttention, "opacus": DPMultiheadAttention}


def build_encoder(cfg):
    attn_cls = ATTENTION[cfg["attention"]]
    return TokenEncoder(cfg["vocab"], cfg["dim"], cfg["heads"], cfg["depth"], cfg["classes"], attn_cls=attn_cls)


CASE = {
    "model": "build_encoder",
    "args": [{"attention": "opacus", "vocab": 50, "dim": 16, "heads": 1, "depth": 2, "classes": 4}],
    "inputs": ["long[B, 7] < 50"],
    "batch_first": False,
    "runtime": "crash",
    "error": "einsum",
}
