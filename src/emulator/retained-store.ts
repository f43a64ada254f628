/** One retained message. `userProperties` is kept as the base64 JSON text the publisher sent. */
export interface RetainedMessage {
  topic: string;
  payload: Buffer;
  qos: number;
  lastModifiedTime: number;
  userProperties: string | undefined;
}

/** Retained messages, one per topic; a newer publish replaces the old, an empty one deletes it. */
export class RetainedStore {
  readonly #messages = new Map<string, RetainedMessage>();
  #sorted: string[] | undefined;

  get size(): number {
    return this.#messages.size;
  }

  put(message: RetainedMessage): void {
    if (!this.#messages.has(message.topic)) this.#sorted = undefined;
    this.#messages.set(message.topic, message);
  }

  delete(topic: string): void {
    if (this.#messages.delete(topic)) this.#sorted = undefined;
  }

  get(topic: string): RetainedMessage | undefined {
    return this.#messages.get(topic);
  }

  /** Topics in sorted order (the listing order; AWS's own order is UNCONFIRMED). */
  topics(): readonly string[] {
    this.#sorted ??= [...this.#messages.keys()].sort();
    return this.#sorted;
  }

  clear(): void {
    this.#messages.clear();
    this.#sorted = undefined;
  }
}
