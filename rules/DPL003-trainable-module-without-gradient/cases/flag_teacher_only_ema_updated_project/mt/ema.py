# Part of the multi-file case (see mt/model.py): an EMA update that reads both modules'
# parameters and runs neither.
import torch


@torch.no_grad()
def ema_update(target, online, decay):
    for t, o in zip(target.parameters(), online.parameters()):
        t.mul_(decay).add_(o, alpha=1 - decay)
