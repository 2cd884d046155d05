// `for await` over a pager (or a sync's changes) enters wasm once per decoded chunk instead
// of once per item: this object hands out the items of each chunk from JS (measured: a few
// per cent of a run's CPU). Fetching, retries, cancellation and errors all stay in the Rust
// iterator.
//
// A pager's `[Symbol.asyncIterator]()` starts a fresh run each time, so each call gets its own
// stream. A sync is one run however often it is iterated: every iteration of one `SyncRun`
// shares one stream, or the customers a first iteration had taken into its chunk but not yet
// handed out would be lost to the second (and the snapshot would still count them).
export function installFastIterator(glue) {
  install(glue.CustomerPager, (pager, rustIterator) => new CustomerStream(rustIterator.call(pager)));
  const streams = new WeakMap();
  install(glue.SyncRun, (run, rustIterator) => {
    let stream = streams.get(run);
    if (stream === undefined) {
      stream = new CustomerStream(rustIterator.call(run));
      streams.set(run, stream);
    }
    return stream;
  });
}

function install(cls, iterate) {
  const rustIterator = cls.prototype[Symbol.asyncIterator];
  Object.defineProperty(cls.prototype, Symbol.asyncIterator, {
    configurable: true,
    writable: true,
    value: function () {
      return iterate(this, rustIterator);
    },
  });
}

const EMPTY = [];

class CustomerStream {
  #inner;
  #signal;
  #chunk = EMPTY;
  #index = 0;
  #queue = Promise.resolve();
  #busy = 0;

  constructor(inner) {
    this.#inner = inner;
    this.#signal = inner.signal;
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  next() {
    if (this.#busy === 0 && this.#index < this.#chunk.length && !this.#signal?.aborted) {
      return Promise.resolve({ value: this.#chunk[this.#index++], done: false });
    }
    // Calls made before the previous one settled wait their turn, in order; with none
    // pending (a for-await loop) the step starts at once, without a queue of promises.
    const step = this.#busy === 0 ? this.#slow() : this.#queue.then(() => this.#slow());
    this.#busy++;
    this.#queue = step.then(this.#settled, this.#settled);
    return step;
  }

  #settled = () => {
    this.#busy--;
  };

  async #slow() {
    for (;;) {
      // After the signal fires nothing more is handed out: the Rust iterator rejects with
      // ABORTED (cause: the signal's reason), then reports done.
      if (this.#signal?.aborted) return this.#inner.next();
      if (this.#index < this.#chunk.length) return { value: this.#chunk[this.#index++], done: false };
      // Let go of the used-up chunk before the next one is fetched and parsed: held across
      // that allocation, its customers would survive young-generation GCs and be promoted.
      this.#chunk = EMPTY;
      this.#index = 0;
      const chunk = await this.#inner.nextChunk();
      if (chunk === undefined) return { value: undefined, done: true };
      this.#chunk = chunk;
      this.#index = 0;
    }
  }

  return() {
    this.#chunk = EMPTY;
    this.#index = 0;
    return this.#inner.return();
  }

  free() {
    this.#inner.free();
  }
}
