// A separate process that takes the state lock, for test/state-lock.test.ts (which bundles it with esbuild).
//   hold FILE [TITLE] set the process title (the command name in /proc), take the lock, print "locked",
//                     keep it until killed
//   contend           print "ready"; then for each stdin line {"file","log","holdMs"} take the lock, hold it
//                     holdMs while appending "enter PID" / "exit PID" to log, and print "granted" or "refused"
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockState, StateLockedError } from '../../src/state/lock.js';

const [mode, holdFile, title] = process.argv.slice(2);

async function contend(file: string, log: string, holdMs: number): Promise<'granted' | 'refused'> {
  let unlock: () => Promise<void>;
  try {
    unlock = await lockState(file);
  } catch (error) {
    if (error instanceof StateLockedError) return 'refused';
    throw error;
  }
  appendFileSync(log, `enter ${process.pid}\n`);
  await sleep(holdMs);
  appendFileSync(log, `exit ${process.pid}\n`);
  await unlock();
  return 'granted';
}

if (mode === 'hold') {
  if (title) process.title = title;
  await lockState(holdFile!);
  process.stdout.write('locked\n');
  setInterval(() => {}, 60_000);
} else if (mode === 'contend') {
  process.stdout.write('ready\n');
  for await (const line of createInterface({ input: process.stdin })) {
    const { file, log, holdMs } = JSON.parse(line) as { file: string; log: string; holdMs: number };
    process.stdout.write(`${await contend(file, log, holdMs)}\n`);
  }
} else {
  throw new Error(`unknown mode ${mode}`);
}
