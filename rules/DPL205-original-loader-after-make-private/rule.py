"""DPL205 original-loader-after-make-private: see README.md."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from dp_lint.analysis.project import Project
from dp_lint.catalogue.rule import FixAvailability, Rule
from dp_lint.core.findings import Applicability, Confidence, Finding, Fix
from dp_lint.files.source import SourceFile
from dp_lint.fix.edits import FixUnavailable, make_fix, replace_nodes


class OriginalLoaderAfterMakePrivate(Rule):
    code = "DPL205"
    name = "original-loader-after-make-private"
    summary = "Training iterates the original data loader after make_private: no Poisson sampling, the reported ε is wrong"
    fix_availability = FixAvailability.UNSAFE
    opacus_behaviours = ("dp-data-loader-replaces-the-loader",)

    def check(self, project: Project) -> Iterator[Finding]:
        for setup in project.training_setups:
            if not setup.engine.kind.makes_private:
                continue
            original = setup.argument_name("data_loader")
            returned = setup.returned("data_loader")
            if original is None or returned is None or original == returned:
                continue
            if "." not in original and setup.assigned_after(original):
                continue
            for loop in setup.training_loops_over(original):
                fix = self._fix(setup.engine.file, loop, original, returned) if loop in setup.after else None
                yield self.report(
                    loop.iter,
                    f"The loop iterates `{original}`, not the loader `{setup.engine.kind.value}` returned "
                    f"(`{returned}`): the reported ε is wrong.",
                    help=(
                        f"Iterate `{returned}`. `{original}` is the data loader given to "
                        f"`{setup.engine.kind.value}` at {setup.engine.label()}: its batches are not Poisson-sampled, "
                        f"so the ε that get_epsilon reports (computed for Poisson sampling at rate "
                        f"1/len({original})) is wrong for the training that ran."
                    ),
                    file=setup.engine.file, confidence=Confidence.HIGH, fix=fix,
                )
            for arg, function, _loop in setup.helper_training_loops(original, project.index):
                yield self.report(
                    arg.value,
                    f"`{function.name}` trains on `{original}`, not on `{returned}` from make_private: the reported "
                    f"ε is wrong.",
                    help=(
                        f"Pass `{returned}`. `{original}` is the data loader given to `{setup.engine.kind.value}` at "
                        f"{setup.engine.label()}; the training loop of `{function.name}` iterates it, so the batches "
                        f"are not Poisson-sampled and the ε that get_epsilon reports is wrong for the training that ran."
                    ),
                    file=setup.engine.file, confidence=Confidence.HIGH,
                    fix=self._argument_fix(setup.engine.file, arg, returned),
                )

    @staticmethod
    def _argument_fix(file: SourceFile, arg: cst.Arg, returned: str) -> Fix | None:
        try:
            tree = replace_nodes(file.module, {arg.value: cst.parse_expression(returned)}, file.parents)
            return make_fix(file.text, tree, Applicability.UNSAFE, f"Pass `{returned}`")
        except FixUnavailable:
            return None

    @staticmethod
    def _fix(file: SourceFile, loop: cst.For, original: str, returned: str) -> Fix | None:
        iterable = loop.iter
        target = iterable if not isinstance(iterable, cst.Call) else iterable.args[0].value
        try:
            tree = replace_nodes(file.module, {target: cst.parse_expression(returned)}, file.parents)
            return make_fix(file.text, tree, Applicability.UNSAFE, f"Iterate `{returned}`")
        except FixUnavailable:
            return None
