import os

from opacus.grad_sample import GradSampleModule


class GradSampleHooksTest:
    def setUp(self):
        self.BATCH_FIRST = os.environ.get("BATCH_FIRST", "1") == "1"

    def run_model(self, model, batch):
        wrapped = GradSampleModule(model, batch_first=self.BATCH_FIRST)
        return wrapped(batch)
