"""Task-agnostic compression of a trained fp32 embedding table, without retraining.

These are the baselines the seed paper argues against: they see only the table, never the
task. Each returns what its export form stores, so the benchmark measures the exported file.
"""

from __future__ import annotations

import numpy as np


def svd_factors(table: np.ndarray, rank: int) -> tuple[np.ndarray, np.ndarray]:
    """table [V, d] ~= rows [V, r] @ basis [r, d] (the best rank-r approximation)."""
    u, s, vt = np.linalg.svd(table.astype(np.float64), full_matrices=False)
    return (u[:, :rank] * s[:rank]).astype(np.float32), vt[:rank].astype(np.float32)


def kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, iterations: int = 25
) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means with k-means++ seeding: (centroids [k, s], assignment [N])."""
    points = points.astype(np.float64)
    centroids = [points[rng.integers(len(points))]]
    for _ in range(1, k):
        distance = np.min(((points[:, None, :] - np.array(centroids)[None]) ** 2).sum(-1), axis=1)
        total = distance.sum()
        index = rng.choice(len(points), p=distance / total) if total > 0 else rng.integers(len(points))
        centroids.append(points[index])
    centroids = np.array(centroids)
    for _ in range(iterations):
        assignment = ((points[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
        for j in range(k):
            members = points[assignment == j]
            if len(members):
                centroids[j] = members.mean(0)
    assignment = ((points[:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
    return centroids.astype(np.float32), assignment


def product_quantize(
    table: np.ndarray, num_codes: int, num_groups: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """k-means product quantization (the fastText.zip recipe): the d columns split into D groups,
    K centroids per group. Returns codes [V, D] and codebook [D, K, d/D] (CodebookLookup's form)."""
    vocab_size, dim = table.shape
    if dim % num_groups:
        raise ValueError(f"D={num_groups} groups must divide the width {dim}")
    rng = np.random.default_rng(seed)
    sub = dim // num_groups
    codes = np.zeros((vocab_size, num_groups), np.int32)
    codebook = np.zeros((num_groups, num_codes, sub), np.float32)
    for g in range(num_groups):
        codebook[g], codes[:, g] = kmeans(table[:, g * sub : (g + 1) * sub], num_codes, rng)
    return codes, codebook


def scalar_quantize_rows(table: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric narrow-range per-row scalar quantization: row ~= row_scale * level[code], the
    levels -(2^(b-1)-1) .. 2^(b-1)-1 (15 for 4 bits, 3 for 2 bits), so no value is clipped.

    Returns codes [V, d] (one per value), the levels as a codebook [d, levels, 1] (the same for
    every column: CodebookLookup's form) and the row scales [V].
    """
    top = 2 ** (bits - 1) - 1
    levels = np.arange(-top, top + 1, dtype=np.float32)
    peak = np.abs(table).max(1)
    row_scales = np.where(peak > 0, peak / top, 1.0).astype(np.float32)
    codes = (np.clip(np.round(table / row_scales[:, None]), -top, top) + top).astype(np.int32)
    codebook = np.broadcast_to(levels[None, :, None], (table.shape[1], len(levels), 1)).copy()
    return codes, codebook, row_scales
