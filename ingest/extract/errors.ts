export type ExtractionErrorCode = 'encrypted' | 'corrupt' | 'no-text' | 'timeout' | 'unsupported' | 'empty' | 'too-large';

/** A file that cannot be turned into text. `message` says what happened and what to do. */
export class ExtractionError extends Error {
  readonly code: ExtractionErrorCode;

  constructor(code: ExtractionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExtractionError';
    this.code = code;
  }
}
