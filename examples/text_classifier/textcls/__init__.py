from .model import TextClassifier

__all__ = ["TextClassifier"]
