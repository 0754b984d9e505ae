// Local times of one day in the household's time zone (not the browser's), from
// the offsets the server sent: `[[from_us, to_us, offset_s], ...]`, two across a
// daylight-saving change.

export class Day {
  constructor(startUs, endUs, offsets) {
    this.start = startUs / 1000;
    this.end = endUs / 1000;
    this.offsets = offsets.map(([a, b, o]) => [a / 1000, b / 1000, o * 1000]);
    // The local date's midnight as if it were UTC: local clock readings are
    // milliseconds after it.
    const first = this.offsets[0];
    this.midnight = Math.floor((this.start + first[2]) / 86400000) * 86400000;
  }

  offset(ms) {
    const o = this.offsets.find(([a, b]) => ms >= a && ms < b) ?? this.offsets[this.offsets.length - 1];
    return o[2];
  }

  // "HH:MM:SS" on the household's clock.
  time(ms) {
    return new Date(ms + this.offset(ms)).toISOString().slice(11, 19);
  }

  // "HH:MM" (or "HH:MM:SS" with `seconds`) on the household's clock.
  hm(ms, seconds = false) {
    return this.time(ms).slice(0, seconds ? 8 : 5);
  }

  // A clock reading of this day ("HH:MM" or "HH:MM:SS") as an instant (ms): the
  // earlier of two when the clock went back over it, past the gap when it went
  // forward over it; null when the day has no such time.
  instant(hms) {
    const m = /^(\d\d):(\d\d)(?::(\d\d))?$/.exec(hms);
    if (!m) return null;
    const local = this.midnight + ((+m[1] * 60 + +m[2]) * 60 + +(m[3] ?? 0)) * 1000;
    for (const [a, b, o] of this.offsets) {
      if (local - o >= a && local - o < b) return local - o;
    }
    const t = local - this.offsets[0][2];
    return t >= this.start && t < this.end ? t : null;
  }
}

// RFC 3339 (UTC) for the API.
export const iso = (ms) => new Date(ms).toISOString();
