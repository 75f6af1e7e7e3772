import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from seq2seq.configuration import MiniT5Config
from seq2seq.modeling import MiniT5ForConditionalGeneration

HPARAMS = {"lr": 1e-3, "epsilon": 8.0, "delta": 1e-5, "epochs": 1, "max_grad_norm": 1.0, "batch_size": 8}


class DPSeq2SeqTrainer:
    def __init__(self, model, hparams):
        self.model = model
        self.hparams = hparams
        self.privacy_engine = PrivacyEngine()

    def create_optimizer(self):
        return torch.optim.AdamW(self.model.parameters(), lr=self.hparams["lr"])

    def train(self, dataset):
        loader = DataLoader(dataset, batch_size=self.hparams["batch_size"])
        optimizer = self.create_optimizer()
        self.model, optimizer, loader = self.privacy_engine.make_private_with_epsilon(
            module=self.model,
            optimizer=optimizer,
            data_loader=loader,
            target_epsilon=self.hparams["epsilon"],
            target_delta=self.hparams["delta"],
            epochs=self.hparams["epochs"],
            max_grad_norm=self.hparams["max_grad_norm"],
        )
        for src, tgt in loader:
            logits = self.model(src, tgt[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), tgt[:, 1:].reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()


def main():
    config = MiniT5Config(vocab_size=50, d_model=16)
    model = MiniT5ForConditionalGeneration(config)
    dataset = TensorDataset(torch.randint(0, 50, (32, 6)), torch.randint(0, 50, (32, 6)))
    return DPSeq2SeqTrainer(model, HPARAMS).train(dataset)
