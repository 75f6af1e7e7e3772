# Part of the multi-file case (see latent_probe/model.py): a helper that takes a parameter
# iterator and only reads it (no freeze).
def count_parameters(params):
    return sum(p.numel() for p in params)
