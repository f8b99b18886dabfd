import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps every line, so tests can assert what operators would see. */
export class LogCapture implements LoggerService {
  readonly lines: { level: string; text: string }[] = [];

  log(message: unknown, ...rest: unknown[]): void {
    this.keep('log', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.keep('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.keep('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.keep('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.keep('verbose', message, rest);
  }

  /** Everything logged, as one string. */
  get all(): string {
    return this.lines.map((line) => `${line.level} ${line.text}`).join('\n');
  }

  clear(): void {
    this.lines.length = 0;
  }

  private keep(level: string, message: unknown, rest: unknown[]): void {
    const parts = [message, ...rest].map((part) => (part instanceof Error ? `${part.message}\n${part.stack}` : typeof part === 'string' ? part : JSON.stringify(part)));
    this.lines.push({ level, text: parts.join(' ') });
  }
}
