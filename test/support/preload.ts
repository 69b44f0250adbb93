// Loaded before every test file (bunfig.toml). Stops any server started lazily by
// test/support/servers.ts and kafka-real.ts once the whole run is over, also when tests failed.
import { afterAll } from "bun:test";
import { stopRealKafka } from "./kafka-real.ts";
import { stopAllServers } from "./servers.ts";

afterAll(async () => {
  await Promise.allSettled([stopAllServers(), stopRealKafka()]);
});
