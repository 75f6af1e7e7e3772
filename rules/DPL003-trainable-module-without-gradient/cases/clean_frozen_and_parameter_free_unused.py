# Mirrors CLIP-guided distillation setups (e.g. a student image encoder next to a frozen
# pretrained text tower kept for zero-shot evaluation): the text tower is built and frozen with
# `requires_grad_(False)` and not called in forward, and a parameter-free `nn.Dropout(p=0.0)` /
# `nn.Identity` left over from a config is unused too. Neither owns a trainable parameter, so
# nothing is "trainable without a gradient": per-sample gradients are exact.
import torch.nn as nn


class ImageTextModel(nn.Module):
    def __init__(self, in_dim=32, embed_dim=16, vocab=50):
        super().__init__()
        self.image_encoder = nn.Sequential(nn.Linear(in_dim, embed_dim), nn.GELU(), nn.Linear(embed_dim, embed_dim))
        self.text_tower = nn.Sequential(nn.Embedding(vocab, embed_dim), nn.Linear(embed_dim, embed_dim))
        self.text_tower.requires_grad_(False)
        self.dropout = nn.Dropout(p=0.0)
        self.neck = nn.Identity()

    def encode_text(self, tokens):
        return self.text_tower(tokens).mean(dim=1)

    def forward(self, images):
        return self.image_encoder(images)


CASE = {
    "model": "ImageTextModel",
    "inputs": ["float[B, 32]"],
    "runtime": "ok",
}
