/** Progress of a long one-off scan on stderr: a single rewritten line at a terminal, plain lines otherwise. */
export interface Progress {
  update(bytesDone: number, currentFile: string): void;
  done(): void;
}

const MIN_INTERVAL_MS = 250;

export function createProgress(stream: NodeJS.WritableStream & { isTTY?: boolean }, totalBytes: number, now: () => number = Date.now): Progress {
  let lastDraw = 0;
  let drawn = false;
  const draw = (bytesDone: number, currentFile: string): void => {
    const percent = totalBytes > 0 ? Math.min(100, Math.floor((bytesDone / totalBytes) * 100)) : 0;
    const line = `racewatch: scanned ${formatBytes(bytesDone)} of ${formatBytes(totalBytes)} (${percent}%) ${currentFile}`;
    stream.write(stream.isTTY ? `\r\x1b[2K${line}` : `${line}\n`);
    drawn = true;
  };
  return {
    update(bytesDone, currentFile) {
      const time = now();
      if (time - lastDraw < MIN_INTERVAL_MS) return;
      lastDraw = time;
      draw(bytesDone, currentFile);
    },
    done() {
      if (drawn && stream.isTTY) stream.write('\r\x1b[2K');
    },
  };
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
