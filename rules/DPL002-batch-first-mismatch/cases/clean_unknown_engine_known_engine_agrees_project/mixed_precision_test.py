from opacus.grad_sample import GradSampleModule


def run_mixed_precision(model, batch):
    wrapped = GradSampleModule(model)
    return wrapped(batch)
