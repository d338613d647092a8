/**
 * Keys made once per configured secret or JWK text (importing or deriving one costs more than using
 * it). A process holds a few; the cache is bounded all the same — past `max` the oldest is dropped —
 * and a key that fails to be made (a rejected promise) is not kept, so the next call tries again.
 */
export function keyCache<K>(max: number, make: (text: string) => K): (text: string) => K {
  const keys = new Map<string, K>();
  return (text) => {
    let key = keys.get(text);
    if (key === undefined) {
      key = make(text);
      if (key instanceof Promise) key.catch(() => keys.delete(text));
      if (keys.size >= max) keys.delete(keys.keys().next().value!);
      keys.set(text, key);
    }
    return key;
  };
}
