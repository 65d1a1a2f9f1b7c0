"""Measuring a generator: mode coverage, Parzen log-likelihood, Fréchet distance."""

from .coverage import ModeCoverage, mode_coverage, nearest_centre
from .frechet import frechet_distance, frechet_distance_gaussians, sqrtm_psd
from .parzen import SIGMAS, ParzenResult, parzen_evaluate, parzen_log_likelihood, select_sigma

__all__ = [
    "SIGMAS", "ModeCoverage", "ParzenResult", "frechet_distance", "frechet_distance_gaussians", "mode_coverage",
    "nearest_centre", "parzen_evaluate", "parzen_log_likelihood", "select_sigma", "sqrtm_psd",
]
