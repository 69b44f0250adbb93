// A real Apache Kafka 2.4 broker (with its ZooKeeper) for what librdkafka's mock cannot show:
// a controller (topic creation is asynchronous there), a broker process that dies and comes
// back on the same port, the command-line tools an operator runs. Started once per `bun test`
// run through the shared script `shared/kafka/kafka.sh` (read its header), lazily, and stopped
// by the preload's afterAll. Startup takes 5-40 s, so only tests that need it call it.
//
// GSR_KAFKA_DIR=DIR reuses a broker the script already started in DIR (developer loop); the
// run then leaves it running, as GSR_OPENGAUSS_DIR does for openGauss.

import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "bun";
import { sharedDir } from "./opengauss.ts";

export interface RealKafka {
  dir: string;
  /** "127.0.0.1:PORT" */
  bootstrap: string;
  /** Path of one of Kafka's own scripts, e.g. tool("kafka-topics.sh"). */
  tool(name: string): string;
  /** Creates a topic with kafka-topics.sh and waits until it exists (the tool returns once the controller took it). */
  createTopic(name: string, partitions?: number): void;
  /** Runs a Kafka tool with the given arguments; exit code and output. */
  run(name: string, args: string[]): { code: number; out: string };
  /** kill -9 of the broker (ZooKeeper stays). */
  brokerDown(): void;
  /** Starts the broker again on the same port; resolves once it is serving. */
  brokerUp(): Promise<void>;
  stop(): void;
}

function kafkaScript(): string {
  return join(sharedDir(), "kafka", "kafka.sh");
}

async function script(args: string[], what: string): Promise<string> {
  const proc = Bun.spawn(["bash", kafkaScript(), ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}): ${err}${out}`);
  return out;
}

async function startRealKafka(): Promise<RealKafka> {
  if (!existsSync(kafkaScript())) throw new Error(`real Kafka for tests: ${kafkaScript()} is missing (set GSR_SHARED to the folder holding kafka/kafka.sh)`);
  const reuse = process.env.GSR_KAFKA_DIR;
  let dir: string;
  let owned = false;
  if (reuse && existsSync(join(reuse, "broker.pid"))) {
    dir = reuse;
  } else {
    dir = mkdtempSync(join(tmpdir(), "gsr-kafka-"));
    owned = true;
    const out = await script(["start", dir], "kafka.sh start");
    if (!/BROKER=127\.0\.0\.1:\d+/.test(out)) throw new Error(`kafka.sh start printed no BROKER= line: ${out}`);
  }
  const port = Number(readFileSync(join(dir, "broker.port"), "utf8").trim());
  const bootstrap = `127.0.0.1:${port}`;
  const bin = join(dir, "kafka_2.11-2.4.0", "bin");
  const run = (name: string, args: string[]) => {
    const r = spawnSync(["bash", join(bin, name), ...args], { stdout: "pipe", stderr: "pipe", env: { ...process.env, LOG_DIR: join(dir, "logs") } });
    return { code: r.exitCode ?? -1, out: r.stdout.toString() + r.stderr.toString() };
  };
  const kafka: RealKafka = {
    dir,
    bootstrap,
    tool: (name) => join(bin, name),
    run,
    createTopic(name, partitions = 1) {
      const r = run("kafka-topics.sh", ["--bootstrap-server", bootstrap, "--create", "--topic", name, "--partitions", String(partitions), "--replication-factor", "1"]);
      if (r.code !== 0) throw new Error(`kafka-topics.sh --create ${name} failed: ${r.out}`);
    },
    brokerDown() {
      spawnSync(["bash", kafkaScript(), "kill-broker", dir]);
    },
    async brokerUp() {
      await script(["start-broker", dir], "kafka.sh start-broker");
    },
    stop() {
      if (!owned) return;
      spawnSync(["bash", kafkaScript(), "stop", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return kafka;
}

let shared: Promise<RealKafka> | undefined;

/** The run's one real broker, started on first use. */
export function getRealKafka(): Promise<RealKafka> {
  shared ??= startRealKafka();
  return shared;
}

export async function stopRealKafka(): Promise<void> {
  const k = shared;
  shared = undefined;
  const server = await k?.catch(() => undefined);
  server?.stop();
}
