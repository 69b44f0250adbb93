// The single-writer lock of a journal directory: a file `lock` holding the owner's pid.
//
// The lock is created by writing the pid to a private temporary file and hard-linking it to
// `lock`: link() fails with EEXIST atomically, and a lock file never exists without its pid
// (an O_EXCL create followed by a write would leave an empty file if we died in between).
//
// A lock whose pid no longer runs is stale (the writer crashed) and is taken over with a
// warning. Our own pid counts as stale unless this process really holds the lock: in a
// container the restarted writer often gets the same pid (1) as the one that crashed.
// Two processes taking over the same stale lock at the same instant could both succeed;
// accepted, since starting two `source` processes on one journal is already an operator error.

import { link, readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ReplicateError } from "../errors.ts";
import { ioError } from "./journal-segment.ts";

const heldHere = new Set<string>();

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as { code?: unknown }).code === "EPERM";
  }
}

async function readPid(path: string): Promise<number | null | "gone"> {
  try {
    const text = await readFile(path, "latin1");
    const m = /^(\d+)\n?$/.exec(text);
    return m?.[1] ? Number(m[1]) : null;
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return "gone";
    throw ioError(err, path, "reading the journal lock");
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (err) {
    if ((err as { code?: unknown }).code !== "ENOENT") throw ioError(err, path, "removing a journal lock file");
  }
}

/** Takes the writer lock of `dir`; resolves to the function that releases it. */
export async function lockJournal(dir: string, onWarning: (msg: string) => void): Promise<() => Promise<void>> {
  const lockPath = join(dir, "lock");
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const tmp = join(dir, `lock.${process.pid}.${crypto.randomUUID()}.tmp`);
    try {
      await writeFile(tmp, mine, { mode: 0o600, flag: "wx" });
    } catch (err) {
      throw ioError(err, tmp, "creating the journal lock");
    }
    let linked = false;
    try {
      await link(tmp, lockPath);
      linked = true;
    } catch (err) {
      if ((err as { code?: unknown }).code !== "EEXIST") {
        await removeQuietly(tmp);
        throw ioError(err, lockPath, "creating the journal lock");
      }
    }
    await removeQuietly(tmp);
    if (linked) {
      heldHere.add(lockPath);
      return async () => {
        heldHere.delete(lockPath);
        if ((await readPid(lockPath)) === process.pid) await removeQuietly(lockPath);
      };
    }

    const pid = await readPid(lockPath);
    if (pid === "gone") continue;
    const ours = pid === process.pid;
    if (pid !== null && ((ours && heldHere.has(lockPath)) || (!ours && running(pid)))) {
      throw new ReplicateError(
        "JOURNAL_IO",
        `journal ${dir} is locked by pid ${pid}${ours ? " (this process)" : ""}: only one writer may use a journal; ` +
          `stop that process first (if pid ${pid} is not gs-replicate, delete ${lockPath})`,
        { where: lockPath },
      );
    }
    onWarning(
      pid === null
        ? `journal lock ${lockPath} holds no pid (left by a crash); taking it over`
        : `journal lock ${lockPath} was left by pid ${pid}, which is no longer running; taking it over`,
    );
    await removeQuietly(lockPath);
  }
  throw new ReplicateError("JOURNAL_IO", `could not take the journal lock ${lockPath}: other processes keep racing for it`, {
    where: lockPath,
  });
}

/** Whether a writer (a live process) holds the lock of `dir`. */
export async function writerRunning(dir: string): Promise<boolean> {
  const pid = await readPid(join(dir, "lock"));
  return typeof pid === "number" && (pid !== process.pid || heldHere.has(join(dir, "lock"))) && running(pid);
}
