"""Training data for the retention model: the shipped generated set and reviewers' approved corrections."""

from classifiers.training.generate import (
    CALIBRATION_SEED,
    DEFAULT_PER_CLASS,
    TRAINING_SEED,
    TrainingExample,
    generate_examples,
    templated_classes,
)

__all__ = [
    "CALIBRATION_SEED",
    "DEFAULT_PER_CLASS",
    "TRAINING_SEED",
    "TrainingExample",
    "generate_examples",
    "templated_classes",
]
