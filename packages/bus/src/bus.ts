import type * as WorkerThreads from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";

/**
 * node:worker_threads, loaded on first use: a process that never hands a port to a thread (every
 * worker) does not pay for loading it at start-up.
 */
let workerThreads: typeof WorkerThreads | undefined;
const threads = (): typeof WorkerThreads => (workerThreads ??= process.getBuiltinModule("node:worker_threads"));
import { BusHandlerError, BusUsageError, UnknownBusMessageTypeError } from "./errors.js";
import { BusLogWriter, type BusLogWriterOptions } from "./log.js";
import { BUS_MESSAGE_TYPES, isBusMessageType, type BusMessage, type BusMessageType, type MessageOfType } from "./messages.js";

/** Anything messages can be published to: a {@link MessageBus}, a {@link MessageOutbox} or a {@link ThreadOutbox}. */
export interface MessagePublisher {
  /** Hands one message over for delivery (a bus queues it until its next `check()`). */
  publish(message: BusMessage): void;
}

/** A handler subscribed to one message type. */
export type MessageHandler<T extends BusMessageType = BusMessageType> = (message: MessageOfType<T>) => void;

/** A live subscription; disposing it (or calling `dispose()`) ends delivery to its handler at once. */
export interface BusSubscription extends Disposable {
  /** False once disposed or once the bus is closed. */
  readonly active: boolean;
  /** Ends delivery to the handler at once; later calls do nothing. */
  dispose(): void;
}

/** Counters kept by a {@link MessageBus}. */
export interface MessageBusStats {
  /** Messages accepted by `publish` on the owning thread, plus messages received from thread ports. */
  readonly published: number;
  /** Messages handed out by `check()` (each counted once, however many subscribers it had). */
  readonly delivered: number;
  /** Messages published after the bus was closed (dropped). */
  readonly dropped: number;
}

class Subscriber implements BusSubscription {
  active = true;
  readonly handler: (message: BusMessage) => void;
  readonly #remove: (s: Subscriber) => void;

  constructor(handler: (message: BusMessage) => void, remove: (s: Subscriber) => void) {
    this.handler = handler;
    this.#remove = remove;
  }

  dispose(): void {
    if (!this.active) return;
    this.active = false;
    this.#remove(this);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

interface PortEntry {
  readonly port: MessagePort;
  /** Set by the port's `close` event. A closed port must never be read again. */
  closed: boolean;
}

/**
 * Holds messages published anywhere in the process and delivers them, in batches, on the thread
 * that created it, when that thread calls {@link MessageBus.check}.
 *
 * - `publish()` only appends to a queue (O(1), no allocation besides the queue's growth).
 * - `check()` delivers everything queued when it started, in publish order, to the subscribers of
 *   each message's type, then to "all messages" subscribers (such as an output file), then runs
 *   the after-batch hooks (output files flush there).
 * - Other threads publish through a port from {@link MessageBus.createThreadPort} wrapped in a
 *   {@link ThreadOutbox}; their messages join the queue when `check()` runs, each thread's in the
 *   order it published them.
 *
 * @example
 * ```ts
 * using bus = new MessageBus();
 * using sub = bus.subscribe("JobIssued", (m) => console.log(m.jobName, m.batchId));
 * bus.publish(jobIssued({ jobId: "j1", jobName: "align", batchId: 1 }));
 * bus.check(); // prints "align 1"
 * ```
 */
export class MessageBus implements MessagePublisher, Disposable {
  #queue: BusMessage[] = [];
  #spare: BusMessage[] = [];
  readonly #byType: Record<string, Subscriber[]>;
  #all: Subscriber[] = [];
  readonly #ports: PortEntry[] = [];
  #hooks: (() => void)[] = [];
  readonly #writers = new Set<BusLogWriter>();
  #delivering = false;
  #closed = false;
  #published = 0;
  #delivered = 0;
  #dropped = 0;

  constructor() {
    const byType = Object.create(null) as Record<string, Subscriber[]>;
    for (const type of BUS_MESSAGE_TYPES) byType[type] = [];
    this.#byType = byType;
  }

  /**
   * Queues a message for delivery on the next `check()`. Never runs handlers itself. After
   * `close()` messages are dropped (counted in `stats.dropped`), so late publishers during
   * shutdown do not fail.
   * @throws UnknownBusMessageTypeError if `message.type` is not a known type.
   */
  publish(message: BusMessage): void {
    if (this.#closed) {
      this.#dropped++;
      return;
    }
    if (this.#byType[message.type] === undefined) throw new UnknownBusMessageTypeError(String(message.type));
    this.#queue.push(message);
    this.#published++;
  }

  /**
   * Delivers the messages queued so far (including those that threads have posted) and returns
   * how many were delivered. Messages published by handlers during delivery wait for the next
   * `check()`. A nested call from inside a handler does nothing and returns 0.
   *
   * Handlers that throw do not stop delivery: every message still reaches every other subscriber,
   * then `check()` throws one {@link BusHandlerError} carrying all the errors.
   */
  check(): number {
    if (this.#delivering || this.#closed) return 0;
    if (this.#ports.length > 0) this.#drainPorts();
    const batch = this.#queue;
    const n = batch.length;
    if (n === 0) return 0;
    this.#queue = this.#spare;
    this.#delivering = true;
    let errors: unknown[] | undefined;
    let i = 0;
    try {
      for (; i < n; i++) {
        if (this.#closed) break;
        const message = batch[i]!;
        const subs = this.#byType[message.type];
        if (subs !== undefined) {
          for (let j = 0; j < subs.length; j++) {
            const s = subs[j]!;
            if (!s.active) continue;
            try {
              s.handler(message);
            } catch (err) {
              (errors ??= []).push(err);
            }
          }
        }
        const all = this.#all;
        for (let j = 0; j < all.length; j++) {
          const s = all[j]!;
          if (!s.active) continue;
          try {
            s.handler(message);
          } catch (err) {
            (errors ??= []).push(err);
          }
        }
      }
    } finally {
      this.#delivering = false;
      this.#delivered += i;
      batch.length = 0;
      this.#spare = batch;
    }
    const hooks = this.#hooks;
    for (let j = 0; j < hooks.length; j++) {
      try {
        hooks[j]!();
      } catch (err) {
        (errors ??= []).push(err);
      }
    }
    if (errors !== undefined) throw new BusHandlerError(errors);
    return i;
  }

  /**
   * Calls `handler` with every message of `type` published after this call, on the owning thread,
   * during `check()`. Dispose the returned subscription to stop (works with `using`).
   */
  subscribe<T extends BusMessageType>(type: T, handler: MessageHandler<T>): BusSubscription {
    if (!isBusMessageType(type)) throw new UnknownBusMessageTypeError(String(type));
    if (typeof handler !== "function") throw new BusUsageError(`subscribe("${type}", handler): handler must be a function, got ${typeof handler}.`);
    const sub = new Subscriber(handler as (m: BusMessage) => void, (s) => {
      // Copy on write: a check() in progress keeps iterating the old array safely.
      this.#byType[type] = this.#byType[type]!.filter((x) => x !== s);
    });
    if (this.#closed) sub.active = false;
    else this.#byType[type] = [...this.#byType[type]!, sub];
    return sub;
  }

  /** Like {@link subscribe} but for every message type, called after the type's own subscribers. */
  subscribeAll(handler: (message: BusMessage) => void): BusSubscription {
    if (typeof handler !== "function") throw new BusUsageError(`subscribeAll(handler): handler must be a function, got ${typeof handler}.`);
    const sub = new Subscriber(handler, (s) => {
      this.#all = this.#all.filter((x) => x !== s);
    });
    if (this.#closed) sub.active = false;
    else this.#all = [...this.#all, sub];
    return sub;
  }

  /**
   * Registers `hook` to run at the end of every `check()` that delivered at least one message
   * (used by output files to write a batch with one system call). Dispose to remove.
   */
  afterBatch(hook: () => void): Disposable & {
    /** Removes the hook. */
    dispose(): void;
  } {
    this.#hooks = [...this.#hooks, hook];
    const dispose = () => {
      this.#hooks = this.#hooks.filter((h) => h !== hook);
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  /**
   * Returns an inbox that collects messages of `types` (all types if omitted) from now on.
   * Reading the inbox calls `check()` first, as Toil's connections do.
   */
  connect<T extends BusMessageType>(types?: readonly T[]): MessageInbox<MessageOfType<T>> {
    return new MessageInbox<MessageOfType<T>>(this, types ?? (BUS_MESSAGE_TYPES as readonly BusMessageType[] as readonly T[]));
  }

  /**
   * Appends a copy of every message delivered from now on to `path`, as JSON lines after a
   * versioned header (format in the package README). Each `check()` writes its batch with one
   * synchronous write; `close()` (or disposing the result, or closing the bus) flushes and closes
   * the file. An existing log is appended to unless `{ mode: "truncate" }`.
   * @throws BusLogFormatError if an existing file is not a bus log of the current format version.
   */
  connectOutputFile(path: string, options?: BusLogWriterOptions): BusLogWriter {
    if (this.#closed) throw new BusUsageError("connectOutputFile(): the bus is closed.");
    const writer = new BusLogWriter(this, path, options);
    this.#writers.add(writer);
    return writer;
  }

  /** A publish-only handle on this bus, for components that must not subscribe or call `check()`. */
  outbox(): MessageOutbox {
    return new MessageOutbox(this);
  }

  /**
   * Creates a channel for another thread and returns the end to transfer to it (in `workerData`
   * with `transferList`, or through `postMessage`). The thread wraps it with
   * {@link ThreadOutbox}. The bus keeps the other end and reads it in `check()`; the port does not
   * keep the process alive. It is forgotten once the thread closes it or exits.
   */
  createThreadPort(): MessagePort {
    if (this.#closed) throw new BusUsageError("createThreadPort(): the bus is closed; create ports before closing it.");
    const { port1, port2 } = new (threads().MessageChannel)();
    const entry: PortEntry = { port: port1, closed: false };
    port1.once("close", () => {
      entry.closed = true;
    });
    port1.unref();
    this.#ports.push(entry);
    return port2;
  }

  /** Number of messages waiting for the next `check()` (not counting those still in thread ports). */
  get pending(): number {
    return this.#queue.length;
  }

  /** Counters of published, delivered and dropped messages so far. */
  get stats(): MessageBusStats {
    return { published: this.#published, delivered: this.#delivered, dropped: this.#dropped };
  }

  /** True once `close()` has run; later messages are dropped. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Delivers what is still queued (with a final `check()`), then ends every subscription, closes
   * every thread port and runs the after-batch hooks one last time. Later publishes are dropped.
   */
  close(): void {
    if (this.#closed) return;
    let failure: unknown;
    try {
      this.check();
    } catch (err) {
      failure = err;
    }
    this.#closed = true;
    for (const type of BUS_MESSAGE_TYPES) {
      for (const s of this.#byType[type]!) s.active = false;
      this.#byType[type] = [];
    }
    for (const s of this.#all) s.active = false;
    this.#all = [];
    for (const entry of this.#ports) {
      if (!entry.closed) entry.port.close();
    }
    this.#ports.length = 0;
    this.#queue.length = 0;
    this.#hooks = [];
    for (const writer of this.#writers) {
      try {
        writer.close();
      } catch (err) {
        failure ??= err;
      }
    }
    this.#writers.clear();
    if (failure !== undefined) throw failure;
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }

  #drainPorts(): void {
    const ports = this.#ports;
    const queue = this.#queue;
    let w = 0;
    for (let p = 0; p < ports.length; p++) {
      const entry = ports[p]!;
      // Reading a port after its close event crashes Node 20, hence the flag.
      if (entry.closed) continue;
      for (;;) {
        const received = threads().receiveMessageOnPort(entry.port);
        if (received === undefined) break;
        const batch = received.message as BusMessage[];
        for (let k = 0; k < batch.length; k++) queue.push(batch[k]!);
        this.#published += batch.length;
      }
      ports[w++] = entry;
    }
    ports.length = w;
  }
}

/** Publish-only view of a {@link MessageBus}. After `close()` its publishes are dropped. */
export class MessageOutbox implements MessagePublisher, Disposable {
  #bus: MessageBus | null;

  constructor(bus: MessageBus) {
    this.#bus = bus;
  }

  /** Publishes to the bus, or does nothing once the outbox is closed. */
  publish(message: BusMessage): void {
    this.#bus?.publish(message);
  }

  /** Detaches from the bus: later messages are dropped. The bus itself stays open. */
  close(): void {
    this.#bus = null;
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * Publishes from a worker thread to the bus that created `port` (see
 * {@link MessageBus.createThreadPort}). Messages are batched per microtask into one
 * `postMessage`; call `flush()` or `close()` before the thread ends abruptly
 * (`process.exit()` skips pending microtasks).
 *
 * @example
 * ```ts
 * // in the worker thread
 * import { workerData } from "node:worker_threads";
 * using outbox = new ThreadOutbox(workerData.busPort);
 * outbox.publish(jobAnnotation({ jobId, jobName, name: "log", value: "/tmp/x.log" }));
 * ```
 */
export class ThreadOutbox implements MessagePublisher, Disposable {
  readonly #port: MessagePort;
  #buffer: BusMessage[] = [];
  #scheduled = false;
  #closed = false;
  readonly #maxBatch: number;
  readonly #flushTask = () => {
    this.#scheduled = false;
    this.flush();
  };

  /** @param options.maxBatch - post as soon as this many messages are buffered (default 4096). */
  constructor(port: MessagePort, options: { maxBatch?: number } = {}) {
    if (port === null || typeof port !== "object" || typeof (port as { postMessage?: unknown }).postMessage !== "function") {
      throw new BusUsageError("ThreadOutbox needs the MessagePort returned by MessageBus.createThreadPort(), transferred to this thread.");
    }
    this.#port = port;
    this.#maxBatch = options.maxBatch ?? 4096;
  }

  /**
   * Buffers a message; it is posted at the end of the current microtask checkpoint. Dropped
   * after `close()`.
   * @throws UnknownBusMessageTypeError if `message.type` is not a known type.
   */
  publish(message: BusMessage): void {
    if (this.#closed) return;
    if (!isBusMessageType(message.type)) throw new UnknownBusMessageTypeError(String(message.type));
    this.#buffer.push(message);
    if (this.#buffer.length >= this.#maxBatch) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushTask);
    }
  }

  /** Posts the buffered messages now. */
  flush(): void {
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    this.#port.postMessage(batch);
  }

  /** Flushes and closes the port; the bus forgets it after delivering what was posted. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#port.close();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * A buffered inbox of messages of some types, in arrival order. Created by
 * {@link MessageBus.connect}. Every read first calls the bus's `check()`. A message is removed
 * only once it has been handled: if a handler (or a `for…of` body) throws or breaks, the message
 * it was handling and all later ones stay in the inbox.
 */
export class MessageInbox<M extends BusMessage = BusMessage> implements Disposable, Iterable<M> {
  readonly #bus: MessageBus;
  #items: M[] = [];
  readonly #counts: Map<string, number> = new Map();
  readonly #subs: BusSubscription[];

  constructor(bus: MessageBus, types: readonly BusMessageType[]) {
    this.#bus = bus;
    if (!Array.isArray(types) || types.length === 0) throw new BusUsageError("connect(types): give at least one message type, or none for all types.");
    const receive = (m: BusMessage) => {
      this.#items.push(m as M);
      this.#counts.set(m.type, (this.#counts.get(m.type) ?? 0) + 1);
    };
    this.#subs = [...new Set(types)].map((t) => bus.subscribe(t, receive));
  }

  /** Number of waiting messages, of `type` if given. */
  count(type?: M["type"]): number {
    this.#bus.check();
    return type === undefined ? this.#items.length : (this.#counts.get(type) ?? 0);
  }

  /** True if no message (of `type`, if given) is waiting. */
  empty(type?: M["type"]): boolean {
    return this.count(type) === 0;
  }

  /**
   * Calls `handler` for each waiting message of `type` (all types if omitted), oldest first,
   * removing each after its handler returns. Messages of other types keep their place.
   * If `handler` throws, that message and the rest stay and the error propagates.
   */
  forEach<T extends M["type"]>(type: T, handler: (message: Extract<M, { type: T }>) => void): number;
  forEach(handler: (message: M) => void): number;
  forEach(a: unknown, b?: unknown): number {
    const type = typeof a === "string" ? a : undefined;
    const handler = (typeof a === "function" ? a : b) as (m: M) => void;
    if (typeof handler !== "function") throw new BusUsageError("inbox.forEach([type,] handler): handler must be a function.");
    let handled = 0;
    for (const m of this.messages(type as M["type"] | undefined)) {
      handler(m);
      handled++;
    }
    return handled;
  }

  /**
   * Iterates over the waiting messages of `type` (all if omitted), oldest first. A message is
   * removed when the iteration moves past it, so breaking or throwing in the loop body keeps the
   * current message and every later one.
   */
  *messages<T extends M["type"]>(
    type?: T,
  ): Generator<
    Extract<
      M,
      {
        /** The type asked for. */
        type: T;
      }
    >,
    void,
    undefined
  > {
    this.#bus.check();
    const items = this.#items;
    let read = 0;
    let write = 0;
    try {
      // `items.length` is re-read each time: messages may arrive if the loop body calls check().
      for (; read < items.length; read++) {
        const m = items[read]!;
        if (type !== undefined && m.type !== type) {
          items[write++] = m;
          continue;
        }
        yield m as Extract<M, { type: T }>;
        this.#counts.set(m.type, this.#counts.get(m.type)! - 1);
      }
    } finally {
      // Close the gap left by consumed messages; keep the unconsumed tail in order.
      if (write !== read) {
        for (; read < items.length; read++) items[write++] = items[read]!;
        items.length = write;
      }
    }
  }

  /** Iterates the waiting messages, oldest first, removing each once the loop body has handled it. */
  [Symbol.iterator](): Iterator<M> {
    return this.messages();
  }

  /** Stops collecting; waiting messages stay readable. */
  close(): void {
    for (const s of this.#subs) s.dispose();
  }

  /** Same as `close()`, for `using`. */
  [Symbol.dispose](): void {
    this.close();
  }
}
