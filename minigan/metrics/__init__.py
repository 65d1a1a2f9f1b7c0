"""Measuring a generator: mode coverage, Parzen log-likelihood, classifier scores,
memorisation (copy-paste) and detectability.  The judge, a cached convolutional digit
classifier, is in :mod:`minigan.metrics.judge`."""

from .classifier import Classifier, MLPClassifier, softmax_cross_entropy
from .coverage import ModeCoverage, mode_coverage, nearest_centre
from .detection import detection_accuracy
from .frechet import frechet_distance, frechet_distance_gaussians, sqrtm_psd
from .memorisation import Memorisation, memorisation, nearest_distances
from .parzen import SIGMAS, ParzenResult, parzen_evaluate, parzen_log_likelihood, select_sigma
from .scores import ClassScores, class_scores, confidence_score, histogram_kl

__all__ = [
    "ClassScores", "Classifier", "MLPClassifier", "Memorisation", "class_scores", "confidence_score",
    "detection_accuracy", "histogram_kl", "memorisation", "nearest_distances", "softmax_cross_entropy",
    "SIGMAS", "ModeCoverage", "ParzenResult", "frechet_distance", "frechet_distance_gaussians", "mode_coverage",
    "nearest_centre", "parzen_evaluate", "parzen_log_likelihood", "select_sigma", "sqrtm_psd",
]
