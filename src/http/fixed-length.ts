/** Gives a stream a known length, so the response carries Content-Length (qemu relies on it). */
export function fixedLength(stream: ReadableStream<Uint8Array>, length: number): ReadableStream {
  const fixed = new FixedLengthStream(length);
  stream.pipeTo(fixed.writable).catch(() => {});
  return fixed.readable;
}
