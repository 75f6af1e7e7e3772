# Part of the multi-file case (see train.py): a text classifier built through a registry. Its encoder is a
# pretrained feature extractor that the training script freezes.
import torch.nn as nn


class BagOfEmbeddingsEncoder(nn.Module):
    def __init__(self, vocab_size, embed_dim):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.proj = nn.Linear(embed_dim, embed_dim)

    def forward(self, tokens):
        return self.proj(self.embedding(tokens).mean(dim=1))


class TextClassifier(nn.Module):
    def __init__(self, encoder, embed_dim, num_labels):
        super().__init__()
        self.encoder = encoder
        self.classifier = nn.Linear(embed_dim, num_labels)

    def forward(self, tokens):
        return self.classifier(self.encoder(tokens))


ENCODERS = {"bag_of_embeddings": BagOfEmbeddingsEncoder}


def build_classifier(cfg):
    encoder = ENCODERS[cfg.arch](cfg.vocab_size, cfg.embed_dim)
    return TextClassifier(encoder, cfg.embed_dim, cfg.num_labels)
