# Part of the multi-file case (see latent_probe/model.py): the project's freeze helper, which
# takes a parameter iterator (not a module).
def freeze(params):
    for p in params:
        p.requires_grad = False
