/**
 * Gives a response body a known length, so the response carries Content-Length (qemu's curl
 * driver relies on it), and tells when the last byte went out, for the request log. The body is
 * never read by JavaScript on its way out: workerd reads a FixedLengthStream natively, in large
 * pieces, where a JS transform in between would cost CPU on every byte.
 */
export interface SizedBody {
  body: ReadableStream;
  /** Resolves to the bytes sent: the full length, or -1 when the stream broke off. */
  sent: Promise<number>;
}

export function fixedLength(stream: ReadableStream<Uint8Array>, length: number): SizedBody {
  const fixed = new FixedLengthStream(length);
  const sent = stream.pipeTo(fixed.writable).then(
    () => length,
    () => -1,
  );
  return { body: fixed.readable, sent };
}
