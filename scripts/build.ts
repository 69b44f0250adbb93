// Builds the single binary dist/gs-replicate (bun build --compile), with one source patch:
//
// postgres.js (3.4.9) sends a query's bytes to the socket at once when its buffer reaches
// 1024 bytes, else on the next setImmediate. The sink pipelines many statements per target
// transaction; under Bun every socket.write is costly, and with rows over ~1 KiB that meant one
// write per statement. Measured on a sysbench-style replay (8,000 transactions, 8 workers):
// 2,824 tx/s as shipped, 4,020 tx/s when writes gather until the next tick (up to 256 KiB).
// The patch only raises that threshold; the build fails if the line is not found, so a
// postgres.js upgrade cannot silently drop it.

import type { BunPlugin } from "bun";

const FROM = "if (fn || chunk.length >= 1024)";
const TO = "if (fn || chunk.length >= 262144)";

export const postgresWriteBatching: BunPlugin = {
  name: "postgres-write-batching",
  setup(build) {
    build.onLoad({ filter: /postgres[\\/]src[\\/]connection\.js$/ }, async (args) => {
      const text = await Bun.file(args.path).text();
      if (!text.includes(FROM)) throw new Error(`postgres-write-batching: "${FROM}" not found in ${args.path}; review the patch for this postgres.js version`);
      return { contents: text.replace(FROM, TO), loader: "js" };
    });
  },
};

if (import.meta.main) {
  const result = await Bun.build({
    entrypoints: ["src/cli/main.ts"],
    compile: { outfile: "dist/gs-replicate" },
    minify: true,
    sourcemap: "linked",
    plugins: [postgresWriteBatching],
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  console.log(`built dist/gs-replicate`);
}
