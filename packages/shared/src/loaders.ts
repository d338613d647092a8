import DataLoader from 'dataloader';

/**
 * A DataLoader for one-to-many lists (a subject's appeals, consents, receipts…): one fetch for all
 * keys of a batch, grouped back per key in order.
 */
export function groupedLoader<V>(fetch: (keys: readonly string[]) => Promise<V[]>, keyOf: (value: V) => string | null): DataLoader<string, V[]> {
  return new DataLoader(async (keys) => {
    const groups = new Map<string, V[]>(keys.map((k) => [k, []]));
    for (const value of await fetch(keys)) {
      const key = keyOf(value);
      if (key !== null) groups.get(key)?.push(value);
    }
    return keys.map((k) => groups.get(k) ?? []);
  });
}
