# Part of the multi-file case (see tagger.py): the package re-exports its models.
from .tagger import SequenceTagger

__all__ = ["SequenceTagger"]
