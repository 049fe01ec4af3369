// Undo and redo over definition texts. Restoring an entry gives back the exact text it held, so
// undo is byte-exact. Typing in one field extends a single entry instead of adding one per key.

const LIMIT = 200;

export class History {
  constructor(text) {
    this.entries = [{ text, key: null, at: 0 }];
    this.index = 0;
  }

  get current() {
    return this.entries[this.index].text;
  }

  get canUndo() {
    return this.index > 0;
  }

  get canRedo() {
    return this.index < this.entries.length - 1;
  }

  /**
   * Records `text` as the newest state. `key` names a continuous edit (one form field): edits with
   * the key of the newest entry extend it, within `withinMs` of each other when given.
   */
  push(text, key = null, withinMs = Infinity) {
    if (text === this.current) return;
    this.entries.length = this.index + 1;
    const top = this.entries[this.index];
    const now = Date.now();
    if (key && top.key === key && now - top.at < withinMs && this.index > 0) {
      top.text = text;
      top.at = now;
      return;
    }
    this.entries.push({ text, key, at: now });
    if (this.entries.length > LIMIT) this.entries.shift();
    this.index = this.entries.length - 1;
  }

  undo() {
    if (!this.canUndo) return null;
    this.index--;
    // Typing after an undo starts a new entry rather than rewriting the restored one.
    this.entries[this.index].key = null;
    return this.current;
  }

  redo() {
    if (!this.canRedo) return null;
    this.index++;
    return this.current;
  }
}
