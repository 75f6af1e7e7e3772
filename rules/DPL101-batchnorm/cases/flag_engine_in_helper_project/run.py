# Part of the multi-file case (see tabular/models.py): the experiment script.
from tabular.models import Baseline, ResidualMLP
from tabular.training import fit, fit_private


def main(train_loader, private_loader):
    baseline = fit(Baseline(), train_loader)
    model, engine = fit_private(ResidualMLP(), private_loader)
    return baseline, model, engine.get_epsilon(1e-5)
