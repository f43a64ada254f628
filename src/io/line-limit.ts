import { Transform } from 'node:stream';
import { InvalidArgumentError } from '../errors.js';

/**
 * A pass-through for text streams that fails once a line grows past `maxChars` characters
 * (a file with no newline, `/dev/zero`): a line reader would otherwise buffer it whole. The error
 * names the source, the line number and the limit. Cost: one lastIndexOf per chunk.
 */
export function limitLineLength(maxChars: number, source: string): Transform {
  let current = 0;
  let line = 1;
  return new Transform({
    decodeStrings: false,
    transform(chunk: string | Buffer, _enc, cb) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      const last = text.lastIndexOf('\n');
      if (last === -1) {
        current += text.length;
      } else {
        // Lines completed inside this chunk are checked one by one only when the chunk could hold a long one.
        let start = 0;
        for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) {
          if (current + (nl - start) > maxChars) return cb(tooLong(source, line, maxChars));
          current = 0;
          start = nl + 1;
          line += 1;
        }
        current = text.length - start;
      }
      if (current > maxChars) return cb(tooLong(source, line, maxChars));
      cb(null, chunk);
    },
  });
}

function tooLong(source: string, line: number, maxChars: number): InvalidArgumentError {
  return new InvalidArgumentError(
    `${source}:${line}: a line longer than the limit of ${maxChars} characters (is this a target file?)`,
  );
}
