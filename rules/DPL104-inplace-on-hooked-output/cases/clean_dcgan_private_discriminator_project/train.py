import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset
from opacus import PrivacyEngine

from gan.models import Discriminator, Generator, weights_init


def get_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("--nz", type=int, default=8)
    parser.add_argument("--ngf", type=int, default=8)
    parser.add_argument("--ndf", type=int, default=8)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--sigma", type=float, default=1.0)
    parser.add_argument("--max-per-sample-grad_norm", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=8)
    return parser


def build_models(opt):
    netG = Generator(opt.nz, opt.ngf)
    netG.apply(weights_init)
    netD = Discriminator(ndf=opt.ndf)
    netD.apply(weights_init)
    return netG, netD


def main(argv=()):
    opt = get_parser().parse_args(list(argv))
    netG, netD = build_models(opt)
    data = TensorDataset(torch.randn(32, 3, 8, 8))
    loader = DataLoader(data, batch_size=opt.batch_size)
    criterion = nn.BCEWithLogitsLoss()
    optimizerD = torch.optim.Adam(netD.parameters(), lr=opt.lr, betas=(0.5, 0.999))
    optimizerG = torch.optim.Adam(netG.parameters(), lr=opt.lr, betas=(0.5, 0.999))
    privacy_engine = PrivacyEngine()
    netD, optimizerD, loader = privacy_engine.make_private(
        module=netD, optimizer=optimizerD, data_loader=loader,
        noise_multiplier=opt.sigma, max_grad_norm=opt.max_per_sample_grad_norm,
    )
    for (real,) in loader:
        b = real.size(0)
        optimizerD.zero_grad(set_to_none=True)
        noise = torch.randn(b, opt.nz, 1, 1)
        fake = netG(noise)
        # One forward/backward per private step (Poisson sampling forbids accumulation).
        inputs = torch.cat([real, fake.detach()])
        labels = torch.cat([torch.ones(b), torch.zeros(b)])
        errD = criterion(netD(inputs), labels)
        errD.backward()
        optimizerD.step()
        optimizerG.zero_grad()
        netD.disable_hooks()
        errG = criterion(netD(fake), torch.ones(b))
        errG.backward()
        optimizerG.step()
        netD.enable_hooks()
    return errG.item()
