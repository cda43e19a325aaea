"""Composable stabilisation techniques: penalties, input transforms, buffers, weight averaging."""
from tfgan_stable.techniques.base import Technique
from tfgan_stable.techniques.penalties import DRAGANPenalty, GradientPenalty

__all__ = ["Technique", "GradientPenalty", "DRAGANPenalty"]
