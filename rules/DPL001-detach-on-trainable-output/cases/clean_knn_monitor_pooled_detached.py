# Mirrors a supervised/SSL image classifier that also returns pooled embeddings for a k-NN
# monitor (as in DINO's and solo-learn's evaluation hooks). The detached values are outputs of
# parameter-free modules (`nn.AdaptiveAvgPool2d`, `nn.GELU`, `nn.Identity`), and the conv's output
# also reaches the logits with its gradient, so no trainable call loses its gradient: per-sample
# gradients are exact.
import torch.nn as nn


class ConvClassifier(nn.Module):
    def __init__(self, channels=8, num_classes=10):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, kernel_size=3, padding=1)
        self.act = nn.GELU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.neck = nn.Identity()
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, images):
        fmap = self.act(self.stem(images))
        logits = self.fc(self.pool(fmap).flatten(1))
        knn_features = self.pool(fmap).detach().flatten(1)
        activation_map = self.neck(fmap).detach()
        return logits, knn_features, activation_map


CASE = {
    "model": "ConvClassifier",
    "inputs": ["float[B, 3, 8, 8]"],
    "runtime": "ok",
}
