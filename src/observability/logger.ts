import winston from 'winston';

export type Logger = winston.Logger;

/** The levels --log-level takes, most severe first. */
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'];

const LEVELS: Readonly<Record<string, number>> = winston.config.npm.levels;

/**
 * Drops a line below the logger's level before it is formatted: winston formats every line and
 * filters only in the transport, which made each reconcile's debug lines cost a JSON encoding.
 */
const atLeast = (level: string) => {
  const most = LEVELS[level] ?? LEVELS.info ?? 2;
  return winston.format((info) => ((LEVELS[info.level] ?? 0) <= most ? info : false))();
};

/** JSON lines on stderr, as log collectors in a cluster expect; `text` for people at a terminal. */
export function createLogger(level = 'info', format: 'json' | 'text' = 'json'): Logger {
  return winston.createLogger({
    level,
    format: winston.format.combine(
      atLeast(level),
      winston.format.timestamp(),
      format === 'json' ? winston.format.json() : winston.format.simple(),
    ),
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
}

export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
