import winston from 'winston';

export type Logger = winston.Logger;

/** The levels --log-level takes, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

const LEVELS: Readonly<Record<string, number>> = winston.config.npm.levels;

/**
 * Drops a line below the logger's level before it is formatted: winston formats every line and
 * filters only in the transport, which made each reconcile's debug lines cost a JSON encoding.
 */
const atLeast = (most: number) =>
  winston.format((info) => ((LEVELS[info.level] ?? 0) <= most ? info : false))();

/** JSON lines on stderr, as log collectors in a cluster expect; `text` for people at a terminal. */
export function createLogger(level = 'info', format: 'json' | 'text' = 'json'): Logger {
  // The rank of the least severe level written (npm's: error 0 ... debug 5).
  const most = LEVELS[level] ?? LEVELS.info ?? 2;
  const logger = winston.createLogger({
    level,
    format: winston.format.combine(
      atLeast(most),
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : winston.format.simple(),
    ),
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
  silenceBelow(logger, most);
  return logger;
}

/**
 * Makes each level less severe than rank `most` a call that does nothing, on the logger and so on its children
 * (they inherit from it): winston otherwise passes every line through its streams before a filter
 * drops it (about 4 us of CPU a line against 0.3; a line written is about 17), and the reconciler
 * writes debug lines on each reconcile.
 */
function silenceBelow(logger: Logger, most: number): void {
  for (const [name, rank] of Object.entries(LEVELS)) {
    if (rank > most) Object.defineProperty(logger, name, { value: () => logger, writable: true });
  }
}

export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
