// The logging interface every component takes: one line per event, a stable event name, fields.

export interface Logger {
  info(fields: Record<string, unknown>, event: string): void;
  warn(fields: Record<string, unknown>, event: string): void;
  error(fields: Record<string, unknown>, event: string): void;
  debug(fields: Record<string, unknown>, event: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/** For tests and simulations that want silence. */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  child() {
    return silentLogger;
  },
};
