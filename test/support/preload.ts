// Loaded before every test file (bunfig.toml). Stops any server started lazily by
// test/support/servers.ts once the whole run is over, also when tests failed.
import { afterAll } from "bun:test";
import { stopAllServers } from "./servers.ts";

afterAll(async () => {
  await stopAllServers();
});
