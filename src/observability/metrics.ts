/**
 * Process-wide counts kept by the stages. Plain numbers, so a one-off scan pays nothing for them; the
 * daemon's /metrics endpoint (http.ts) exposes them in the Prometheus format.
 */
export const counts = {
  reportsSeen: 0,
  issuesCreated: 0,
  commentsPosted: 0,
  bytesRead: 0,
  sightingsPending: 0,
  filesFollowed: 0,
  filesOpen: 0,
  /** Files a listing found that were gone before they could be opened (rotated and deleted that fast). */
  filesVanished: 0,
  lastReadAt: Date.now(),
  gitlabErrorsByStatus: new Map<string, number>(),
};

export function countBytesRead(bytes: number): void {
  if (bytes === 0) return;
  counts.bytesRead += bytes;
  counts.lastReadAt = Date.now();
}

export function countGitlabError(status: number | undefined): void {
  const key = String(status ?? 'none');
  counts.gitlabErrorsByStatus.set(key, (counts.gitlabErrorsByStatus.get(key) ?? 0) + 1);
}
