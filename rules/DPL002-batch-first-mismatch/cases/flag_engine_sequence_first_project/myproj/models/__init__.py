# Part of the multi-file case (see text.py): the package re-exports its models.
from myproj.models.text import TextClassifier

__all__ = ["TextClassifier"]
