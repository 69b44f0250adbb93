// A TCP proxy in front of a target that can stop forwarding without closing anything: a
// network partition as the sink sees it (connections open, no answer, no error), which a
// server restart or a refused connection does not show.
import type { Socket, TCPSocketListener } from "bun";

interface Blackhole {
  port: number;
  /** Stops forwarding in both directions; bytes are held, connections stay open. */
  hold(): void;
  /** Forwards again, held bytes first. */
  release(): void;
  close(): void;
}

interface Side {
  peer?: Socket<Side>;
  held: Uint8Array[];
}

export async function startBlackhole(targetPort: number): Promise<Blackhole> {
  let holding = false;
  const pairs = new Set<Socket<Side>>();
  const send = (to: Socket<Side> | undefined, data: Uint8Array, from: Side) => {
    if (holding || !to) from.held.push(new Uint8Array(data));
    else to.write(data);
  };
  const server: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      async open(client) {
        client.data = { held: [] };
        pairs.add(client);
        const upstream = await Bun.connect<Side>({
          hostname: "127.0.0.1",
          port: targetPort,
          socket: {
            data: (up, d) => send(client, d, up.data),
            close: () => void client.end(),
            error: () => void client.end(),
          },
        });
        upstream.data = { peer: client, held: [] };
        client.data.peer = upstream;
        for (const d of client.data.held.splice(0)) if (!holding) upstream.write(d);
        pairs.add(upstream);
      },
      data: (client, d) => send(client.data.peer, d, client.data),
      close: (client) => void client.data.peer?.end(),
      error: (client) => void client.data.peer?.end(),
    },
  });
  return {
    port: server.port,
    hold: () => {
      holding = true;
    },
    release: () => {
      holding = false;
      for (const s of pairs) {
        const other = s.data.peer;
        for (const d of s.data.held.splice(0)) other?.write(d);
      }
    },
    close: () => {
      server.stop(true);
      for (const s of pairs) s.end();
    },
  };
}
