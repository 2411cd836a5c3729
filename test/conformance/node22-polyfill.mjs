// Node 22 APIs gitlab-ci-local uses, for Node 20 (loaded with `node --import`): the Set methods of
// ES2025, Object.groupBy, Map.groupBy, Promise.withResolvers and Array.fromAsync, each only when missing.

const setMethods = {
  union(other) {
    const out = new Set(this);
    for (const v of other.keys()) out.add(v);
    return out;
  },
  intersection(other) {
    return new Set([...this].filter((v) => other.has(v)));
  },
  difference(other) {
    return new Set([...this].filter((v) => !other.has(v)));
  },
  symmetricDifference(other) {
    const out = new Set(this);
    for (const v of other.keys()) this.has(v) ? out.delete(v) : out.add(v);
    return out;
  },
  isSubsetOf(other) {
    return [...this].every((v) => other.has(v));
  },
  isSupersetOf(other) {
    return [...other.keys()].every((v) => this.has(v));
  },
  isDisjointFrom(other) {
    return [...this].every((v) => !other.has(v));
  },
};
for (const [name, fn] of Object.entries(setMethods))
  if (!Set.prototype[name])
    Object.defineProperty(Set.prototype, name, { value: fn, writable: true, configurable: true });

const groupBy = (items, key) => {
  const out = new Map();
  let i = 0;
  for (const item of items) {
    const k = key(item, i++);
    if (!out.has(k)) out.set(k, []);
    out.get(k).push(item);
  }
  return out;
};
if (!Object.groupBy)
  Object.groupBy = (items, key) =>
    Object.assign(Object.create(null), Object.fromEntries(groupBy(items, key)));
if (!Map.groupBy) Map.groupBy = groupBy;
if (!Promise.withResolvers)
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
if (!Array.fromAsync)
  Array.fromAsync = async (items, map) => {
    const out = [];
    let i = 0;
    for await (const item of items) out.push(map ? await map(item, i++) : item);
    return out;
  };
