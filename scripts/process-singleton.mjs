// The entry scripts' side of lib/process-singletons.ts, which plain ESM can't import: the
// same key for a name (`Symbol.for('portcullis.<name>')`), so a value the bundled app
// registers is the value the entry server reads, whichever side comes first.
// test/unit/process-singletons.test.ts checks that both sides name the same symbols.

/** The global symbol `name` lives under. */
export function processSingletonKey(name) {
  return Symbol.for(`portcullis.${name}`);
}

/** The process's value for `name`, or undefined while nobody has made it. */
export function existingProcessSingleton(name) {
  return globalThis[processSingletonKey(name)];
}

/** The process's value for `name`, made by `create` the first time anyone asks. */
export function processSingleton(name, create) {
  const key = processSingletonKey(name);
  if (!(key in globalThis)) globalThis[key] = create();
  return globalThis[key];
}
