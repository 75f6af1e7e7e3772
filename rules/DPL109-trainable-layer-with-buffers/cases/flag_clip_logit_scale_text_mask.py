"""A small CLIP: the learnable temperature `logit_scale` is a raw parameter of the CLIP module
itself, and the text tower registers its causal attention mask as a buffer."""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class TextTower(nn.Module):
    def __init__(self, vocab_size=50, context_length=7, width=16):
        super().__init__()
        self.context_length = context_length
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.mix = nn.Linear(width, width)
        self.register_buffer("attn_mask", self.build_attention_mask(), persistent=False)
        self.proj = nn.Linear(width, 8)

    def build_attention_mask(self):
        mask = torch.empty(self.context_length, self.context_length)
        mask.fill_(float("-inf"))
        return mask.triu_(1)

    def forward(self, text):
        x = self.token_embedding(text)
        weights = F.softmax(x @ x.transpose(1, 2) + self.attn_mask, dim=-1)
        x = self.mix(weights @ x)
        return self.proj(x[:, -1])


class ImageTower(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.proj = nn.Linear(8, 8)

    def forward(self, image):
        return self.proj(self.conv(image).mean(dim=(2, 3)))


class CLIP(nn.Module):
    def __init__(self):
        super().__init__()
        self.visual = ImageTower()
        self.text = TextTower()
        self.logit_scale = nn.Parameter(torch.ones([]) * math.log(1 / 0.07))  # expect: DPL109

    def forward(self, image, text):
        image_features = F.normalize(self.visual(image), dim=-1)
        text_features = F.normalize(self.text(text), dim=-1)
        return self.logit_scale.exp() * image_features @ text_features.t()


CASE = {
    "model": "CLIP",
    "inputs": ["float[B, 3, 8, 8]", "long[B, 7] < 50"],
    "runtime": "crash",
    "error": "Model contains a trainable layer",
}
