// The slideshow's order: which picture comes next. Pure logic (no timers, no I/O), so the
// daemon, the state file and the tests share one definition.
//   name     natural order of the names (img2 before img10)
//   mtime    oldest first
//   shuffle  every picture once, in a random order, before any repeats; a new picture joins
//            the current round
export type SlideOrder = 'name' | 'mtime' | 'shuffle';

export interface Slide {
  id: string;
  mtimeMs: number;
}

export interface SlideshowState {
  order: SlideOrder;
  current: string | null;
  /** Shuffle only: the rest of this round, in order. */
  round: string[];
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

export class Slideshow {
  private readonly slides = new Map<string, Slide>();
  private currentId: string | null = null;
  /** The current slide's sort key, kept when it is removed so the order goes on from it. */
  private currentSlide: Slide | null = null;
  private round: string[] = [];

  constructor(readonly order: SlideOrder, private readonly random: () => number = Math.random) {}

  get size(): number {
    return this.slides.size;
  }

  get current(): string | null {
    return this.currentId;
  }

  has(id: string): boolean {
    return this.slides.has(id);
  }

  /** Slides in order (shuffle: name order; the round holds the random one). */
  list(): Slide[] {
    return [...this.slides.values()].sort((a, b) => this.compare(a, b));
  }

  add(slide: Slide): void {
    const isNew = !this.slides.has(slide.id);
    this.slides.set(slide.id, { ...slide });
    if (slide.id === this.currentId) this.currentSlide = { ...slide };
    if (isNew && this.order === 'shuffle' && slide.id !== this.currentId) {
      // A random place in what is left of this round, so it is seen before any repeat.
      const at = Math.floor(this.random() * (this.round.length + 1));
      this.round.splice(at, 0, slide.id);
    }
  }

  remove(id: string): void {
    this.slides.delete(id);
    this.round = this.round.filter((r) => r !== id);
  }

  /** Makes `id` the current slide (shown now: a new picture, a restart, a `show` command). */
  setCurrent(id: string): void {
    this.currentId = id;
    const slide = this.slides.get(id);
    if (slide) this.currentSlide = { ...slide };
    this.round = this.round.filter((r) => r !== id);
  }

  /** What `next()` would return, without moving. */
  peekNext(): string | null {
    return this.step(+1, false);
  }

  /** Moves to the next slide and returns it (null when there are none). */
  next(): string | null {
    return this.step(+1, true);
  }

  prev(): string | null {
    return this.step(-1, true);
  }

  state(): SlideshowState {
    return { order: this.order, current: this.currentId, round: [...this.round] };
  }

  /** Restores a saved state; slides must be added first. Unknown ids are dropped. */
  restore(state: SlideshowState): void {
    if (state.current && this.slides.has(state.current)) this.setCurrent(state.current);
    if (state.order === this.order && this.order === 'shuffle') {
      const known = state.round.filter((id) => this.slides.has(id) && id !== this.currentId);
      const missing = [...this.slides.keys()].filter((id) => id !== this.currentId && !known.includes(id));
      this.round = [...known, ...missing];
    }
  }

  private step(direction: 1 | -1, move: boolean): string | null {
    if (this.slides.size === 0) return null;
    let id: string;
    if (this.order === 'shuffle' && direction === 1) {
      if (this.round.length === 0) this.round = this.newRound();
      id = this.round[0]!;
      if (move) this.round.shift();
    } else {
      const list = this.list();
      const reference = this.currentSlide;
      let index: number;
      if (!reference) index = direction === 1 ? 0 : list.length - 1;
      else if (direction === 1) {
        index = list.findIndex((s) => this.compare(s, reference) > 0);
        if (index < 0) index = 0; // wrap around
      } else {
        const before = list.filter((s) => this.compare(s, reference) < 0);
        index = before.length > 0 ? before.length - 1 : list.length - 1;
      }
      id = list[index]!.id;
    }
    if (move) this.setCurrent(id);
    return id;
  }

  /** A new random round (Fisher-Yates) that does not start with the slide on screen. */
  private newRound(): string[] {
    const ids = [...this.slides.keys()].sort(collator.compare);
    for (let i = ids.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [ids[i], ids[j]] = [ids[j]!, ids[i]!];
    }
    if (ids.length > 1 && ids[0] === this.currentId) [ids[0], ids[1]] = [ids[1]!, ids[0]!];
    return ids;
  }

  private compare(a: Slide, b: Slide): number {
    if (this.order === 'mtime' && a.mtimeMs !== b.mtimeMs) return a.mtimeMs - b.mtimeMs;
    return collator.compare(a.id, b.id) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  }
}
