import { native } from './native.js';

export function sdNotify(state) {
  if (typeof state !== 'string') throw new TypeError('sdNotify(state): state must be a string');
  return native.sdNotify(state);
}
