/**
 * Retries an assertion until it passes or the deadline expires, for state the API server publishes
 * asynchronously and offers no watch for (OpenAPI documents, discovery). Rethrows the last failure.
 */
export async function eventually<T>(
  assertion: () => Promise<T>,
  timeoutMs = 30_000,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await assertion();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
}
