/**
 * Gathers the keys asked for in one turn of the event loop and loads them in
 * one call: where every statement is a round trip, N concurrent lookups by
 * key then cost one statement. Keys asked twice in a turn are loaded once.
 * A failed load fails every caller of that turn.
 */
export type TurnBatch<K, V> = { get(key: K): Promise<V | undefined> };

export function createTurnBatch<K, V>(load: (keys: K[]) => Promise<Map<K, V>>): TurnBatch<K, V> {
  let waiting = new Map<K, Array<{ resolve: (v: V | undefined) => void; reject: (e: unknown) => void }>>();

  const flush = () => {
    const batch = waiting;
    waiting = new Map();
    Promise.resolve([...batch.keys()]).then(load).then(
      (found) => {
        for (const [key, callers] of batch) for (const c of callers) c.resolve(found.get(key));
      },
      (error: unknown) => {
        for (const callers of batch.values()) for (const c of callers) c.reject(error);
      },
    );
  };

  return {
    get(key) {
      return new Promise((resolve, reject) => {
        if (waiting.size === 0) setImmediate(flush);
        const callers = waiting.get(key);
        if (callers) callers.push({ resolve, reject });
        else waiting.set(key, [{ resolve, reject }]);
      });
    },
  };
}
