# Part of the multi-file case (see lib/nets.py): the experiment script.
from lib.nets import ConvNet
from lib.trainer import DPTrainer


def main(loader):
    trainer = DPTrainer(ConvNet(channels=8), lr=0.1)
    return trainer.fit(loader)
