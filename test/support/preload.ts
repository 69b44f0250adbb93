// Loaded before every test file (bunfig.toml). Stops any server started lazily by
// test/support/servers.ts and kafka-real.ts once the whole run is over, also when tests failed,
// and any gs-replicate a failed test left running.
import { afterAll } from "bun:test";
import { killChildren } from "./cli.ts";
import { stopRealKafka } from "./kafka-real.ts";
import { stopAllServers } from "./servers.ts";

afterAll(async () => {
  killChildren();
  await Promise.allSettled([stopAllServers(), stopRealKafka()]);
});
