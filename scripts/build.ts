// Builds the single binary dist/gs-replicate (bun build --compile) from the installed packages
// as they are: the driver patches in patches/ are applied to node_modules on install
// (scripts/patch-deps.sh, npm's postinstall), so tests, benches and the binary run the same
// code. The build only checks that they are applied, and stops if not.

// The binary runs with --smol (collect garbage sooner): a replicator's heap is mostly
// short-lived buffers, and bench/source measured peak RSS 384 → 297 MiB with it.
if (import.meta.main) {
  const verify = Bun.spawnSync(["scripts/patch-deps.sh", "--verify"], { stderr: "inherit" });
  if (verify.exitCode !== 0) process.exit(1);
  const result = await Bun.build({
    entrypoints: ["src/cli/main.ts"],
    compile: { outfile: "dist/gs-replicate", execArgv: ["--smol"] },
    minify: true,
    sourcemap: "linked",
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    process.exit(1);
  }
  console.log(`built dist/gs-replicate`);
}
