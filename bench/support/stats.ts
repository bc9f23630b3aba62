/** Small statistics helpers for the benches: medians of rounds, latency percentiles. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The lowest and highest of a list, for reporting spread next to a median. */
export function range(values: readonly number[]): [number, number] {
  return [Math.min(...values), Math.max(...values)];
}

/**
 * A distribution-free confidence interval for the median (order statistics, binomial
 * tails): with n rounds, [x(k), x(n-k+1)] covers the true median with probability ≥
 * `confidence`. Null when there are too few values for that confidence.
 */
export function medianInterval(values: readonly number[], confidence = 0.95): [number, number] | null {
  const n = values.length;
  const sorted = [...values].sort((a, b) => a - b);
  const alpha = (1 - confidence) / 2;
  // P(X <= j) for X ~ Binomial(n, 1/2), accumulated until it passes alpha.
  let cumulative = 0;
  let coefficient = 1; // C(n, j)
  let k = 0;
  for (let j = 0; j <= n; j++) {
    cumulative += coefficient / 2 ** n;
    if (cumulative > alpha) break;
    k = j + 1;
    coefficient = (coefficient * (n - j)) / (j + 1);
  }
  if (k < 1) return null;
  return [sorted[k - 1]!, sorted[n - k]!];
}
