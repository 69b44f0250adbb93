// The CLI contract, run on the compiled binary as runbooks do.
import { describe, expect, test } from "bun:test";
import pkg from "../../package.json" with { type: "json" };
import { runCli, writeConfig } from "../support/cli.ts";

describe("gs-replicate binary", () => {
  test("--help lists the three subcommands and the exit codes", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const cmd of ["source", "sink", "check"]) expect(r.stdout).toContain(cmd);
    expect(r.stdout).toContain("Exit codes");
    expect(r.stdout).not.toMatch(/\x1b\[/);
  });

  test("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  test("each subcommand documents its flags", async () => {
    const flags = { source: ["--config", "--stdout", "--stop-at-end"], sink: ["--config", "--stop-at-end"], check: ["--config", "--data", "--json"] };
    for (const [cmd, expected] of Object.entries(flags)) {
      const r = await runCli([cmd, "--help"]);
      expect(r.code).toBe(0);
      for (const f of expected) expect(r.stdout).toContain(f);
    }
  });

  test("usage errors exit 2: no command, unknown command, unknown flag, missing --config", async () => {
    expect((await runCli([])).code).toBe(2);
    const unknownCmd = await runCli(["sourc", "--config", "x"]);
    expect(unknownCmd.code).toBe(2);
    expect(unknownCmd.stderr).toContain('unknown command "sourc"');
    const unknownFlag = await runCli(["sink", "--config", "x", "--stop-at-ned"]);
    expect(unknownFlag.code).toBe(2);
    expect(unknownFlag.stderr).toContain("--stop-at-end");
    const missing = await runCli(["check"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("--config");
  });

  test("bad configuration exits 2 naming the key, and never prints a secret", async () => {
    const path = writeConfig(`[source]\nuser = "r"\npassword = "pw-do-not-print"\nport = "3306"\n[transport]\nkind = "journal"\n[transport.journal]\ndir = "/tmp/x"\n`);
    const r = await runCli(["source", "--config", path]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("[source] port");
    expect(r.stderr).toContain("expected an integer");
    expect(r.stdout + r.stderr).not.toContain("pw-do-not-print");
    const missingFile = await runCli(["source", "--config", "/nonexistent/gs.toml"]);
    expect(missingFile.code).toBe(2);
    expect(missingFile.stderr).toContain("/nonexistent/gs.toml");
  });
});
