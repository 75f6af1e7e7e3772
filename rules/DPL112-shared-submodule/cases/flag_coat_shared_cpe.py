# Mirrors CoaT's ParallelBlock/SerialBlock (Xu et al., 2021; timm's coat.py): the model owns the
# convolutional position encodings (`self.cpe1 = ConvPosEnc(...)`) and hands the same object to
# each serial block, which stores it as `self.cpe`. The ConvPosEnc is then registered under two
# parents; Opacus hooks it once per parent and its per-sample gradient comes out twice the true
# one (measured on opacus 1.6.0: max abs error ~ the gradient itself, no error raised).
import torch.nn as nn


class ConvPosEnc(nn.Module):
    def __init__(self, dim, k=3):
        super().__init__()
        self.proj = nn.Conv1d(dim, dim, k, padding=k // 2, groups=dim)

    def forward(self, x):
        return x + self.proj(x.transpose(1, 2)).transpose(1, 2)


class SerialBlock(nn.Module):
    def __init__(self, dim, shared_cpe=None):
        super().__init__()
        self.cpe = shared_cpe
        self.norm = nn.LayerNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        x = self.cpe(x)
        return x + self.mlp(self.norm(x))


class CoaTLite(nn.Module):
    def __init__(self, dim=8, num_classes=3):
        super().__init__()
        self.embed = nn.Linear(4, dim)
        self.cpe1 = ConvPosEnc(dim)
        self.block1 = SerialBlock(dim, shared_cpe=self.cpe1)  # expect: DPL112
        self.head = nn.Linear(dim, num_classes)

    def forward(self, x):
        return self.head(self.block1(self.embed(x)).mean(1))


CASE = {
    "model": "CoaTLite",
    "inputs": ["float[B, 6, 4]"],
    "runtime": "silent",
}
