// The catch-all around the wasm instance: whatever breaks inside it (a trap — a bug not found
// yet — or a caller's exception unwinding through it, which leaves its stack pointer and
// borrows behind), the call that hit it rejects with an AppxiteError `INTERNAL`, every run
// still waiting on that instance rejects the same way instead of hanging, and the next call
// runs on a fresh instance made from the module already compiled (wasm-bindgen's
// `__wbg_reset_state`, built with `--experimental-reset-state-function`).
//
// How a broken instance is noticed: build-pkg.sh routes the glue's `wasm = …exports` through
// `guardExports`, so every call into the wasm — from a method, a promise callback, a timer — goes
// through one wrapper. A wasm export never throws on purpose (wasm-bindgen returns errors as
// values and throws them in JS afterwards), so an exception out of one means the instance is
// broken. Inside a callback it is swallowed (rethrown there it would crash Node as an uncaught
// exception); inside a method it becomes that method's INTERNAL error.

let dead = false; // the instance threw: no more calls into it
let depth = 0; // wasm calls on the stack
let inMethod = 0; // public methods on the stack
let generation;
const SWALLOWED = Object.freeze([0, 0, 0, 0]);

// A generation is one instance: `pending` holds the reject functions of its promises not yet
// settled, so that its death rejects them all. (Not `Promise.race` with a "died" promise:
// every race leaves a reaction on that never-settling promise, which kept every chunk of
// customers ever handed out reachable — measured: a 100,000-customer listing's peak went from
// 25 to 220 MB.)
function newGeneration() {
  const pending = new Set();
  generation = {
    pending,
    die(err) {
      for (const reject of pending) reject(err);
      pending.clear();
    },
  };
}
newGeneration();

/** An AppxiteError with code INTERNAL (what the Rust side would build, made here). */
function internal(cause) {
  const what = cause instanceof Error ? cause.name : typeof cause;
  const err = new Error(
    `internal error in the SDK's WebAssembly (${what}); the module was reset: this call and the runs it had open failed, the next call works`,
  );
  err.name = "AppxiteError";
  err.code = "INTERNAL";
  if (cause !== undefined) err.cause = cause;
  return err;
}

/** Called by the glue (see build-pkg.sh) with each instance's exports. */
export function guardExports(exports) {
  const out = {};
  for (const [name, value] of Object.entries(exports)) {
    if (typeof value !== "function") {
      out[name] = value;
      continue;
    }
    // Fixed arity: a wasm export ignores extra arguments, and no array is made per call.
    out[name] = function (a, b, c, d, e, f, g, h, i, j) {
      if (dead) throw internal();
      depth++;
      try {
        return value(a, b, c, d, e, f, g, h, i, j);
      } catch (err) {
        dead = true;
        generation.die(internal(err));
        if (inMethod > 0) throw err;
        // A callback's call: swallowed (see the top of this file). The glue reads some results
        // as `[value, error, isError]`: zeros read as "no error", and the instance is never
        // called again.
        return SWALLOWED;
      } finally {
        depth--;
      }
    };
  }
  return out;
}

let resetState;

/** Before a public method runs: a fresh instance if the last one broke. */
function enter() {
  if (!dead) return;
  if (depth > 0) throw internal(); // called from inside the wasm (an onEvent listener)
  dead = false;
  newGeneration();
  resetState();
}

function isAppxiteError(e) {
  return e instanceof Error && e.name === "AppxiteError" && typeof e.code === "string";
}

/** Run a public method: a throw that is no AppxiteError is INTERNAL; a promise also rejects
 * when the instance breaks. */
function call(self, fn, args) {
  enter();
  const { pending } = generation;
  let result;
  inMethod++;
  try {
    result = fn.apply(self, args);
  } catch (err) {
    throw isAppxiteError(err) && !dead ? err : internal(err);
  } finally {
    inMethod--;
  }
  if (!(result instanceof Promise)) return result;
  if (dead) return Promise.reject(internal()); // the instance broke while this call ran
  return new Promise((resolve, reject) => {
    pending.add(reject);
    result.then(
      (value) => {
        pending.delete(reject);
        resolve(value);
      },
      (err) => {
        pending.delete(reject);
        reject(isAppxiteError(err) ? err : internal(err));
      },
    );
  });
}

function wrapClass(cls) {
  const proto = cls.prototype;
  for (const key of Reflect.ownKeys(proto)) {
    if (key === "constructor") continue;
    const desc = Object.getOwnPropertyDescriptor(proto, key);
    if (key === "free" || key === Symbol.dispose) {
      // Freeing an object of a replaced instance frees nothing: not an error.
      const free = desc.value;
      desc.value = function () {
        try {
          free.call(this);
        } catch {}
      };
    } else {
      for (const part of ["value", "get"]) {
        const fn = desc[part];
        if (typeof fn === "function") {
          desc[part] = function (...args) {
            return call(this, fn, args);
          };
        }
      }
    }
    Object.defineProperty(proto, key, desc);
  }
}

/**
 * Guard the glue's classes, and give the AppxiteClient that survives a reset: it keeps its
 * options and makes its wasm half again on the new instance.
 */
export function installGuard(glue) {
  resetState = glue.__wbg_reset_state;
  for (const cls of [glue.CustomerPager, glue.CustomerIterator, glue.PageIterator, glue.SyncRun]) wrapClass(cls);
  const Inner = glue.AppxiteClient;
  const methods = Object.getOwnPropertyNames(Inner.prototype).filter(
    (k) => k !== "constructor" && k !== "free" && typeof Inner.prototype[k] === "function",
  );

  // Each client's options, wasm half and the instance generation it was made on.
  const halves = new WeakMap();
  const current = (client) => {
    enter();
    const half = halves.get(client);
    if (half.generation !== generation) {
      half.inner = call(undefined, () => new Inner(half.options), []);
      half.generation = generation;
    }
    return half.inner;
  };

  class AppxiteClient {
    constructor(options) {
      const inner = call(undefined, () => new Inner(options), []);
      halves.set(this, { options, inner, generation });
    }

    free() {
      try {
        halves.get(this).inner.free();
      } catch {}
    }

    /** Test only: traps inside the wasm — at once, or (`"later"`) inside a pending promise. */
    static __testTrap(when) {
      return call(undefined, glue.__testTrap, [when === "later"]);
    }
  }
  for (const name of methods) {
    const method = Inner.prototype[name];
    AppxiteClient.prototype[name] = function (...args) {
      return call(current(this), method, args);
    };
  }
  if (Symbol.dispose) AppxiteClient.prototype[Symbol.dispose] = AppxiteClient.prototype.free;
  return AppxiteClient;
}
