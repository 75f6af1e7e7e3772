import torch
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from config import TrainConfig
from selfsup.models import build_model
from selfsup.utils import cosine_schedule


class Trainer:
    def __init__(self, cfg: TrainConfig, model, loader):
        self.cfg = cfg
        self.model = model
        self.loader = loader
        self.optimizer = torch.optim.SGD(
            model.parameters(), lr=cfg.optim.lr, momentum=cfg.optim.momentum, weight_decay=cfg.optim.weight_decay
        )
        self.engine = PrivacyEngine()

    def setup_privacy(self):
        self.model, self.optimizer, self.loader = self.engine.make_private(
            module=self.model,
            optimizer=self.optimizer,
            data_loader=self.loader,
            noise_multiplier=self.cfg.privacy.noise_multiplier,
            max_grad_norm=self.cfg.privacy.max_grad_norm,
        )

    def fit(self):
        self.setup_privacy()
        steps = self.cfg.epochs * len(self.loader)
        step = 0
        for _ in range(self.cfg.epochs):
            for x0, x1 in self.loader:
                m = cosine_schedule(step, steps, self.cfg.momentum_start, 1.0)
                self.model._module.momentum_step(m)
                loss = self.model(x0, x1).mean()
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                step += 1
        return self.engine.get_epsilon(self.cfg.privacy.delta)


def main():
    cfg = TrainConfig()
    data = TensorDataset(torch.randn(64, 16), torch.randn(64, 16))
    loader = DataLoader(data, batch_size=cfg.batch_size)
    model = build_model(cfg.model)
    return Trainer(cfg, model, loader).fit()


if __name__ == "__main__":
    print(main())
