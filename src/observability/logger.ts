import winston from 'winston';

export type Logger = winston.Logger;

/** JSON lines on stderr, as log collectors in a cluster expect; `text` for people at a terminal. */
export function createLogger(level = 'info', format: 'json' | 'text' = 'json'): Logger {
  return winston.createLogger({
    level,
    format:
      format === 'json'
        ? winston.format.combine(winston.format.timestamp(), winston.format.json())
        : winston.format.combine(winston.format.timestamp(), winston.format.simple()),
    transports: [new winston.transports.Console({ stderrLevels: Object.keys(winston.config.npm.levels) })],
  });
}

export function silentLogger(): Logger {
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
}
