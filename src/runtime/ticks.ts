// Lets a consumer loop act while its source is quiet: TICK is interleaved whenever no item
// arrived for `ms`. One timer per period, not per item. `source` flushes its batch on a tick;
// `sink` hands its pending group of transactions to the workers.

export const TICK: unique symbol = Symbol("tick");

export async function* withTicks<T>(source: AsyncIterable<T>, ms: number): AsyncGenerator<T | typeof TICK> {
  const it = source[Symbol.asyncIterator]();
  let pending = it.next();
  const nextTick = (): Promise<typeof TICK> => Bun.sleep(ms).then(() => TICK);
  let tick = nextTick();
  try {
    for (;;) {
      const r: IteratorResult<T> | typeof TICK = await Promise.race([pending, tick]);
      if (r === TICK) {
        tick = nextTick();
        yield TICK;
        continue;
      }
      if (r.done) return;
      pending = it.next();
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}
