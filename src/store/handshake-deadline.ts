// A deadline for the start of a protocol session (the `connect-timeout` setting, in seconds): a
// remote that accepts the connection but never answers the handshake (a hung remote program, a
// wedged builder) is cut off and reported, instead of holding its caller forever. Nix 2.8 only
// passes the setting to ssh, which bounds the TCP connection but not what runs after it.
import { StoreError } from './errors.js';

export async function withHandshakeDeadline<T>(
  handshake: Promise<T>,
  opts: { seconds: number | undefined; close: () => Promise<void>; uri: string },
): Promise<T> {
  const seconds = opts.seconds ?? 0;
  if (!(seconds > 0)) return handshake;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void opts.close().catch(() => {});
      reject(
        new StoreError(
          'CONNECTION',
          `no answer from '${opts.uri}' within ${seconds} s of connecting (connect-timeout)`,
        ),
      );
    }, seconds * 1000);
  });
  try {
    return await Promise.race([handshake, expired]);
  } finally {
    clearTimeout(timer);
    // The handshake's own failure, once the transport is closed, is not reported twice.
    handshake.catch(() => {});
  }
}
