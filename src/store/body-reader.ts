/**
 * Cuts a request body into pieces of the sizes the write path asks for, whatever sizes the
 * network delivers. Holds at most one piece and one network read in memory.
 */
import { LoopError } from "../errors";

export class BodyReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private leftover: Uint8Array | null = null;
  private ended = false;
  /** Bytes handed out so far. */
  consumed = 0;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** Up to `length` bytes; fewer only where the body ends. */
  async read(length: number): Promise<Uint8Array> {
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const piece = await this.nextPiece();
      if (!piece) break;
      const take = Math.min(piece.byteLength, length - filled);
      out.set(piece.subarray(0, take), filled);
      filled += take;
      this.leftover = take < piece.byteLength ? piece.subarray(take) : null;
    }
    this.consumed += filled;
    return filled === length ? out : out.subarray(0, filled);
  }

  /** Exactly `length` bytes, or EINVAL naming how short the body was. */
  async readExact(length: number, expectedTotal: number): Promise<Uint8Array> {
    const bytes = await this.read(length);
    if (bytes.byteLength < length) {
      throw new LoopError(
        "EINVAL",
        `the body ended after ${this.consumed} bytes; Content-Range announced ${expectedTotal}`,
      );
    }
    return bytes;
  }

  /** Refuses a body that goes on past what was announced. */
  async expectEnd(expectedTotal: number): Promise<void> {
    const extra = await this.nextPiece();
    if (extra && extra.byteLength > 0) {
      await this.cancel();
      throw new LoopError("EINVAL", `the body is longer than the ${expectedTotal} bytes announced`);
    }
  }

  async cancel(): Promise<void> {
    this.ended = true;
    await this.reader.cancel().catch(() => {});
  }

  private async nextPiece(): Promise<Uint8Array | null> {
    if (this.leftover) {
      const piece = this.leftover;
      this.leftover = null;
      return piece;
    }
    while (!this.ended) {
      const { done, value } = await this.reader.read();
      if (done) {
        this.ended = true;
        return null;
      }
      if (value.byteLength) return value;
    }
    return null;
  }
}
