"""Offline intent classification for group and private messages."""

from handlers.intents.classifier import INTENTS, Classification, classify

__all__ = ["INTENTS", "Classification", "classify"]
