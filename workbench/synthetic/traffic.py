"""Request volume: daily and weekly seasonality, a slow trend and interval noise.

Volume is modelled per five-minute bin as a Poisson count around a seasonal intensity, in the local
time of the theme's users: a night trough, an afternoon peak with an optional evening bump, and a
weekend dip. The ingress counts in ``metrics/traffic.csv`` are these true counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["BIN_US", "DAY_US", "HOUR_US", "Traffic"]

HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US
BIN_US = 300_000_000  # five minutes


@dataclass(frozen=True)
class Traffic:
    """Seasonal request intensity; ``base`` is the mean number of requests per five-minute bin."""

    utc_offset_h: float
    trough: float
    peak_hour: float
    evening: float
    weekend: float
    trend: float
    noise: float
    start_us: int
    end_us: int
    base: float = 1.0

    @classmethod
    def draw(cls, rng: np.random.Generator, *, utc_offset_h: float, start_us: int, end_us: int) -> Traffic:
        """A seed-varied seasonal profile."""
        return cls(
            utc_offset_h=utc_offset_h,
            trough=float(rng.uniform(0.12, 0.35)),
            peak_hour=float(rng.uniform(13.0, 19.0)),
            evening=float(rng.uniform(0.0, 0.3)),
            weekend=float(rng.uniform(0.62, 0.9)),
            trend=float(rng.uniform(-0.08, 0.12)),
            noise=float(rng.uniform(0.03, 0.08)),
            start_us=start_us,
            end_us=end_us,
        )

    def local_hour(self, t_us: np.ndarray) -> np.ndarray:
        """Hour of day (fractional) in the users' local time."""
        return ((np.asarray(t_us) / HOUR_US) + self.utc_offset_h) % 24.0

    def shape(self, t_us: np.ndarray) -> np.ndarray:
        """Relative intensity at ``t_us`` (about 1 on a weekday afternoon)."""
        t_us = np.asarray(t_us, dtype=np.int64)
        hour = self.local_hour(t_us)
        daily = ((1.0 + np.cos(2.0 * np.pi * (hour - self.peak_hour) / 24.0)) / 2.0) ** 1.5
        daily = self.trough + (1.0 - self.trough) * daily + self.evening * np.exp(-((hour - 21.0) ** 2) / 4.5)
        # 1970-01-01 was a Thursday: local weekday 5, 6 are Saturday, Sunday
        weekday = ((t_us + int(self.utc_offset_h * HOUR_US)) // DAY_US + 3) % 7
        weekly = np.where(weekday >= 5, self.weekend, 1.0)
        progress = (t_us - self.start_us) / max(self.end_us - self.start_us, 1)
        return daily * weekly * (1.0 + self.trend * progress)

    def bins(self) -> np.ndarray:
        """Start of every five-minute bin of the span."""
        return np.arange(self.start_us, self.end_us, BIN_US, dtype=np.int64)

    def sample(self, rng: np.random.Generator, day_start_us: int) -> np.ndarray:
        """Sorted request timestamps (microseconds) of the day starting at ``day_start_us``."""
        bins = np.arange(day_start_us, min(day_start_us + DAY_US, self.end_us), BIN_US, dtype=np.int64)
        noise = np.exp(self.noise * rng.standard_normal(bins.size) - 0.5 * self.noise**2)
        counts = rng.poisson(self.base * self.shape(bins) * noise)
        starts = np.repeat(bins, counts)
        # millisecond precision, as serving logs record it, so every file format agrees
        offsets = rng.integers(0, BIN_US // 1000, size=starts.size, dtype=np.int64) * 1000
        return np.sort(starts + offsets)
